public import Foundation
public import Pipeline

/// The part of ``Config`` the scheduler uses; replaced as a whole on SIGHUP.
public struct SchedulerSettings: Sendable, Hashable {
    public var concurrency: Int
    /// Extra jobs while a GPU encoder is in use.
    public var gpuConcurrency: Int
    public var maxAttempts: Int
    public var shutdownGraceSeconds: Double
    /// Delay before attempt n+1 is `retryBackoffSeconds * 2^(n-1)`, at most 5 minutes.
    public var retryBackoffSeconds: Double
    public var options: TranscodeOptions
    public var inbox: URL
    public var failedPath: URL
    public var archivePath: URL?
    /// `[inbox] settle_seconds`: how long intake takes to record a replaced source again.
    public var settleSeconds: Double
    public var onSuccess: Config.Inbox.OnSuccess
    /// `state/work`: one folder per running job.
    public var workRoot: URL
    /// `state/effects.lock`: the daemon and the CLI lock an effect's slot there while they carry it out.
    public var effectLockFile: URL
    /// `[state] node` and `lease_seconds`: who claims jobs, and how long a claim lasts without a heartbeat.
    public var node: NodeIdentity

    public init(config: Config) {
        concurrency = config.transcode.concurrency
        gpuConcurrency = config.transcode.gpuConcurrency
        maxAttempts = config.transcode.maxAttempts
        shutdownGraceSeconds = config.transcode.shutdownGraceSeconds
        retryBackoffSeconds = 2
        options = config.transcode.options
        options.limits = config.limits
        settleSeconds = config.inbox.settleSeconds
        inbox = config.inbox.path
        failedPath = config.inbox.failedPath
        archivePath = config.inbox.archivePath
        onSuccess = config.inbox.onSuccess
        workRoot = config.state.workURL
        effectLockFile = config.state.path.appendingPathComponent("effects.lock")
        node = NodeIdentity(name: config.state.node, leaseSeconds: config.state.leaseSeconds)
    }

    /// The retry delay after `attempts` failed attempts.
    public func backoff(afterAttempt attempts: Int) -> TimeInterval {
        min(retryBackoffSeconds * pow(2, Double(max(0, attempts - 1))), 300)
    }

    /// The job's folder under the work root.
    public func workDirectory(_ id: Int64) -> URL { workRoot.appendingPathComponent("\(id)") }

    /// What `on_success` does to the source of a completed job.
    public func successEffect(for job: Job) -> PlannedEffect? {
        let source = inbox.appendingPathComponent(job.sourcePath)
        switch onSuccess {
        case .keep: return nil
        case .delete: return PlannedEffect(.delete, source: source)
        case .archive:
            guard let archivePath else { return nil }
            return PlannedEffect(.archive, source: source, target: archivePath.appendingPathComponent(job.sourcePath))
        }
    }

    /// Moves the source to the failed folder with `NAME.error.txt` (reason, attempts, encoder) beside it.
    public func failEffect(for job: Job, reason: String, encoder: String?) -> PlannedEffect {
        let note = """
            file: \(job.sourcePath)
            job: \(job.id ?? 0)
            reason: \(reason)
            attempts: \(job.attempts)
            encoder: \(encoder ?? job.encoder ?? "none")
            failed at: \(JobPayload.iso(Date()))

            """
        return PlannedEffect(.fail, source: inbox.appendingPathComponent(job.sourcePath),
                             target: failedPath.appendingPathComponent(job.sourcePath), note: note)
    }

    /// Moves a failed job's source back into the inbox (`watchfolder retry`): from `failedFile`, where its `fail`
    /// effect put it (by default its path under the failed folder), to its path in the inbox.
    public func restoreEffect(for job: Job, from failedFile: URL? = nil) -> PlannedEffect {
        PlannedEffect(.restore, source: failedFile ?? failedPath.appendingPathComponent(job.sourcePath),
                      target: inbox.appendingPathComponent(job.sourcePath))
    }
}
