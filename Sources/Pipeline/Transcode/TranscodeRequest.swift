public import Foundation
public import Logging

/// One file to turn into one HLS package.
public struct TranscodeRequest: Sendable {
    /// The source video. Opened with ``SourceFile/open(path:)`` unless ``source`` is given.
    public var input: URL
    /// The source, already opened (the daemon opens it beneath the inbox and checks it is the recorded file).
    public var source: SourceFile?
    /// Where the finished package appears (must not exist yet; its parent is created).
    public var outputDirectory: URL
    /// Scratch dir on the same filesystem as `outputDirectory`; the package is built here, then renamed into
    /// place. It is removed on failure or cancellation.
    public var workDirectory: URL
    public var options: TranscodeOptions
    /// Subtitle files uploaded beside the source, opened (``SubtitleSidecar``): each becomes a subtitle rendition.
    public var subtitles: [SubtitleSidecar] = []
    /// Added to every line the engine logs for this request (the daemon's `wf.job.id`).
    public var logMetadata: Logger.Metadata

    public init(input: URL, outputDirectory: URL, workDirectory: URL, options: TranscodeOptions = TranscodeOptions(),
                source: SourceFile? = nil, logMetadata: Logger.Metadata = [:]) {
        self.logMetadata = logMetadata
        self.input = input
        self.source = source
        self.outputDirectory = outputDirectory
        self.workDirectory = workDirectory
        self.options = options
    }
}

/// How far a transcode has come.
public struct TranscodeProgress: Sendable, Hashable, Codable {
    /// 0...1 of the source duration.
    public var fraction: Double
    /// Output media time reached, seconds.
    public var mediaSeconds: Double
    /// Media seconds per wall-clock second (x realtime).
    public var speed: Double
    /// Estimated seconds left, once the speed is known.
    public var eta: Double?

    public init(fraction: Double, mediaSeconds: Double, speed: Double, eta: Double?) {
        self.fraction = fraction
        self.mediaSeconds = mediaSeconds
        self.speed = speed
        self.eta = eta
    }
}
