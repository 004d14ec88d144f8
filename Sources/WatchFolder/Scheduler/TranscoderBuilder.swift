import Foundation
public import Logging
public import Pipeline

/// The engine (``Pipeline/Transcoder``) as the scheduler's ``PackageBuilder``.
public struct TranscoderBuilder: PackageBuilder {
    let transcoder: Transcoder

    public init(logger: Logger) {
        transcoder = Transcoder(logger: logger)
    }

    public func build(_ request: BuildRequest, progress: @escaping @Sendable (TranscodeProgress) -> Void) async throws -> BuiltPackage {
        let (stream, continuation) = AsyncStream.makeStream(of: TranscodeProgress.self, bufferingPolicy: .bufferingNewest(1))
        return try await withThrowingTaskGroup(of: BuiltPackage?.self) { group in
            group.addTask {
                for await p in stream { progress(p) }
                return nil
            }
            group.addTask {
                defer { continuation.finish() }
                var transcode = TranscodeRequest(input: request.source, outputDirectory: request.output,
                                                 workDirectory: request.work, options: request.options,
                                                 source: request.sourceFile,
                                                 logMetadata: request.jobId.map { ["wf.job.id": "\($0)"] } ?? [:])
                transcode.subtitles = request.subtitles
                let manifest = try await transcoder.transcode(transcode, progress: continuation)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let json = try? String(decoding: encoder.encode(manifest), as: UTF8.self)
                return BuiltPackage(encoder: manifest.encoder, manifestJSON: json, masterName: manifest.master)
            }
            var result: BuiltPackage?
            for try await next in group where next != nil { result = next }
            guard let result else { throw CancellationError() }
            return result
        }
    }
}
