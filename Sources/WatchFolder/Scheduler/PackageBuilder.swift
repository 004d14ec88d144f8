public import Foundation
public import Pipeline

/// One package to build: the source, where the package goes, a scratch folder, and the options.
public struct BuildRequest: Sendable, Hashable {
    /// The source's path (names it; the engine reads ``sourceFile`` when it is given).
    public var source: URL
    /// The source opened once beneath the inbox and checked against the job's fingerprint: what is read.
    public var sourceFile: SourceFile?
    /// The package directory (created by the builder).
    public var output: URL
    /// Scratch space, removed by the builder when it stops.
    public var work: URL
    public var options: TranscodeOptions

    public init(source: URL, output: URL, work: URL, options: TranscodeOptions, sourceFile: SourceFile? = nil) {
        self.source = source
        self.sourceFile = sourceFile
        self.output = output
        self.work = work
        self.options = options
    }
}

/// What a successful build reports.
public struct BuiltPackage: Sendable, Hashable {
    /// The video encoder used (`libx264`, `h264_nvenc`...).
    public var encoder: String?
    /// The package manifest as JSON (stored with the job, sent in `job.completed`).
    public var manifestJSON: String?
    /// The master playlist's file name inside the package.
    public var masterName: String

    public init(encoder: String?, manifestJSON: String?, masterName: String = "master.m3u8") {
        self.encoder = encoder
        self.manifestJSON = manifestJSON
        self.masterName = masterName
    }
}

/// A build that failed, with the encoder that was in use (a GPU failure is retried on the CPU).
public struct BuildFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var encoder: String?
    public var description: String { message }

    public init(message: String, encoder: String?) {
        self.message = message
        self.encoder = encoder
    }
}

/// Turns one source into one package; the scheduler's view of the engine (``TranscoderBuilder``).
///
/// - Important: Cancelling the calling task must stop the build promptly and leave nothing in `work`.
public protocol PackageBuilder: Sendable {
    func build(_ request: BuildRequest, progress: @escaping @Sendable (Double) -> Void) async throws -> BuiltPackage
}
