public import Foundation

/// What the daemon and the CLI need from a job store. ``SQLiteJobStore`` is the embedded default; a store
/// shared by several nodes (PostgreSQL) can implement the same protocol without touching the scheduler.
///
/// Every method is one transaction. Transitions record their events (``JobEvent``) and file effects
/// (``FileEffect``) in that same transaction.
public protocol JobStore: Sendable {
    /// Records files as queued jobs. A file already known (same path and fingerprint, source still in the inbox)
    /// is not recorded again; a queued job whose file was replaced takes the new fingerprint.
    /// - Returns: The jobs created by this call.
    func enqueue(_ files: [InboxFile]) async throws -> [Job]

    /// Takes the oldest queued job that is due and has no pending file effect: `running`, attempts + 1,
    /// `job.started`. Nil when nothing is due.
    func claimNext(now: Date) async throws -> Job?

    /// Applies `change` to job `id` if its current state allows it.
    /// - Throws: ``StoreError`` `invalidTransition` or `noSuchJob`.
    @discardableResult
    func transition(_ id: Int64, _ change: JobTransition) async throws -> Job

    /// Records progress of a running job; a `job.progress` event at each 10 % step, or after 30 s without one
    /// if it moved.
    func updateProgress(_ id: Int64, fraction: Double) async throws

    /// `watchfolder cancel`: a queued job is cancelled at once; a running or publishing one is flagged and
    /// the daemon stops it.
    func requestCancel(_ id: Int64) async throws -> Job

    /// Running jobs whose cancellation was requested.
    func cancelRequests() async throws -> [Int64]

    func job(_ id: Int64) async throws -> Job?
    /// Newest first, optionally only `state`.
    func list(state: Job.State?, limit: Int) async throws -> [Job]
    /// Jobs in `state`, oldest first.
    func jobs(in state: Job.State) async throws -> [Job]
    /// Number of jobs in each state (every state present, zeros included).
    func counts() async throws -> [Job.State: Int]

    /// Effects not carried out yet, oldest first; only those of job `id` when given.
    func pendingEffects(job id: Int64?) async throws -> [FileEffect]
    func markEffectDone(_ id: Int64) async throws
    /// Records the name effect `id` moves its file to (its target was taken). For a `restore`, the job's source
    /// takes that name too, in the same transaction.
    func placeEffect(_ id: Int64, at path: String) async throws
    /// Where the last effect of `kind` of job `id` put its file (`placed`, else its target), if there was one.
    func lastPlacement(job id: Int64, kind: FileEffect.Kind) async throws -> String?

    /// Records a new output location for a job in `publishing`, before the publisher claims it (the one recorded
    /// was taken by another job's package).
    /// - Throws: ``StoreError`` when the job is not publishing.
    func relocate(_ id: Int64, to location: String) async throws

    /// Events after `id`, oldest first (for the webhook sender).
    func events(after id: Int64, limit: Int) async throws -> [JobEvent]
}

/// A file effect decided by the scheduler or the CLI; the store fills in the job and its file identity.
public struct PlannedEffect: Sendable, Hashable {
    public var kind: FileEffect.Kind
    public var source: URL
    /// The preferred destination.
    public var target: URL?
    /// The destination already chosen, when `target` is known to be taken (a `restore` whose inbox name is used).
    public var placed: URL?
    public var note: String?

    public init(_ kind: FileEffect.Kind, source: URL, target: URL? = nil, placed: URL? = nil, note: String? = nil) {
        self.kind = kind
        self.source = source
        self.target = target
        self.placed = placed
        self.note = note
    }
}

/// The transitions of a job after it was claimed.
public enum JobTransition: Sendable, Hashable {
    /// running → publishing: the package is built; where it will be published, and the manifest.
    case publishing(location: String, encoder: String?, manifest: String?)
    /// publishing → completed (`job.completed`), then the source's `on_success` effect.
    case completed(location: String, master: String?, effect: PlannedEffect?)
    /// running → queued after a failed attempt (`job.retrying`), due again after `delay`.
    case retry(error: String, encoder: String?, delay: TimeInterval)
    /// running/publishing/queued → failed (`job.failed`), the source moved to the failed folder.
    case failed(error: String, encoder: String?, effect: PlannedEffect?)
    /// queued/running/publishing → cancelled (`job.cancelled`); the source stays where it is.
    case cancelled(reason: String)
    /// running/publishing → queued without an event: shutdown or a previous life's orphan.
    /// `refund` gives the attempt back (a graceful stop is not the file's fault).
    case requeued(refund: Bool)
    /// failed/cancelled → queued with fresh attempts (`watchfolder retry`, `job.queued`); `effect` moves the
    /// source back into the inbox (when it is `placed` under another name, the job's source takes that name). The
    /// output location stays, so a package that reached it is published from there rather than built again.
    case retried(effect: PlannedEffect?)
}

/// Errors of the job store, with the job they concern.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: Sendable, Equatable { case noSuchJob, invalidTransition }
    public var code: Code
    public var message: String
    public var description: String { message }

    static func noSuchJob(_ id: Int64) -> StoreError { StoreError(code: .noSuchJob, message: "no job \(id)") }
    static func invalid(_ job: Job, _ what: String) -> StoreError {
        StoreError(code: .invalidTransition, message: "job \(job.id ?? 0) is \(job.state.rawValue): cannot \(what)")
    }
}
