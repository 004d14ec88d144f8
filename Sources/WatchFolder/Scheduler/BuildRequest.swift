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
    /// The job's subtitle sidecars, opened beneath the inbox and checked against what intake recorded.
    public var subtitles: [SubtitleSidecar] = []
    /// The job the package is for: the engine's log lines carry it as `wf.job.id`.
    public var jobId: Int64?

    public init(source: URL, output: URL, work: URL, options: TranscodeOptions, sourceFile: SourceFile? = nil,
                jobId: Int64? = nil) {
        self.source = source
        self.jobId = jobId
        self.sourceFile = sourceFile
        self.output = output
        self.work = work
        self.options = options
    }
}
