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
    /// `job.started`, run by `node` under a new lease (``Job/leaseToken``) that ends after its `leaseSeconds`
    /// unless renewed (``heartbeat(node:leases:encoder:now:)``). Nil when nothing is due.
    func claimNext(now: Date, node: NodeIdentity) async throws -> Job?

    /// Applies `change` to job `id` if its current state allows it. With a `lease` (the token the job was claimed or
    /// taken over with), only while that lease is the job's: a node whose lease has moved writes nothing.
    /// - Throws: ``StoreError`` `invalidTransition`, `noSuchJob` or `leaseLost`.
    @discardableResult
    func transition(_ id: Int64, _ change: JobTransition, lease: Int64?) async throws -> Job

    /// Records progress of a running job, with the engine's speed (x realtime) and ETA (seconds) when known;
    /// a `job.progress` event at each 10 % step, or after 30 s without one if it moved. Nothing is written once
    /// `lease` (when given) is not the job's any more.
    func updateProgress(_ id: Int64, fraction: Double, speed: Double?, eta: Double?, lease: Int64?) async throws

    /// Takes over a running or publishing `job` under a new lease for `node`: only when its lease is still the one
    /// in `job` and has run out, or, when `previousLife` is set (the node's start-up), when it was this node's own
    /// (the flock on `[state] path` says no other process of this node lives). Nil when another node holds it.
    func takeOver(_ job: Job, now: Date, node: NodeIdentity, previousLife: Bool) async throws -> Job?

    /// One heartbeat of `node`, in one transaction: records that it is up (with the `encoder` it uses), renews the
    /// leases it holds (`leases`: job id to token) until `now` + its lease, and reports those it lost and the
    /// other jobs whose lease ran out.
    func heartbeat(node: NodeIdentity, leases: [Int64: Int64], encoder: String?, now: Date) async throws -> Heartbeat

    /// Records that `node` stopped (graceful shutdown): `watchfolder nodes` shows it `gone` at once.
    func leave(node: NodeIdentity, now: Date) async throws

    /// Every node that ever ran here, by name, with the jobs it runs now.
    func nodes(now: Date) async throws -> [NodeStatus]

    /// `watchfolder cancel`: a queued job is cancelled at once; a running or publishing one is flagged and
    /// the daemon stops it.
    func requestCancel(_ id: Int64) async throws -> Job

    /// Running jobs whose cancellation was requested.
    func cancelRequests() async throws -> [Int64]

    /// When the next queued job waiting for a retry after `now` becomes due; nil when none waits.
    func nextRetry(after now: Date) async throws -> Date?

    /// A waiter woken after every commit to the store (coalesced), so that the scheduler and the webhook queues wait
    /// for work instead of polling for it. A backend says which other processes' commits it sees
    /// (``SQLiteJobStore/commits``: the daemon ticks those itself).
    func commitWaiter() -> CommitWaiter

    /// Statements the store has run since it was opened (`/metrics`: an idle daemon runs none).
    var statementsExecuted: Int { get }

    /// The sidecars recorded with job `id`, by name.
    func sidecars(job id: Int64) async throws -> [Sidecar]

    func job(_ id: Int64) async throws -> Job?
    /// Newest first, optionally only `state`, only ids below `cursor` when given (the next page), at most `limit`.
    func list(state: Job.State?, limit: Int, before cursor: Int64?) async throws -> [Job]
    /// Jobs in `state`, oldest first.
    func jobs(in state: Job.State) async throws -> [Job]
    /// Number of jobs in each state (every state present, zeros included).
    func counts() async throws -> [Job.State: Int]
    /// The counts, the queued jobs due at `now` and the newest event id, read together (health, metrics).
    func summary(now: Date) async throws -> JobSummary

    /// Running and publishing jobs, longest running first (at most `limit`).
    func running(limit: Int) async throws -> [Job]
    /// The first `limit` queued jobs in the order ``claimNext(now:)`` takes them: those due at `now` by arrival,
    /// then those waiting for a retry.
    func nextQueued(limit: Int, now: Date) async throws -> [Job]
    /// The `limit` jobs in `states` that finished last, most recent first.
    func recentlyFinished(_ states: [Job.State], limit: Int) async throws -> [Job]

    /// Ticks when an event is recorded or a running job's progress changes: the first tick comes at once, later
    /// ones are coalesced while the reader is busy (read what changed with ``events(after:limit:)`` and
    /// ``list(state:limit:before:)``). It ends when the consumer stops iterating, or when the store can no longer
    /// be observed. How soon another process's writes tick is the backend's to say (``SQLiteJobStore/changes()``).
    func changes() -> AsyncStream<Void>

    /// Effects not carried out yet, oldest first; only those of job `id` when given.
    func pendingEffects(job id: Int64?) async throws -> [FileEffect]
    func markEffectDone(_ id: Int64) async throws
    /// Claims effect `id` for `node` until `until`, so that one node of a cluster carries it out: false while another
    /// node's claim holds it (or when it is done). A claim that ran out (its node died) can be taken. The embedded
    /// store has one node, whose processes share a lock file instead (``FileEffectRunner/lockFile``): always true.
    func claimEffect(_ id: Int64, node: String, until: Date, now: Date) async throws -> Bool
    /// Records the name effect `id` moves its file to (its target was taken). For a `restore`, the job's source
    /// takes that name too, in the same transaction.
    func placeEffect(_ id: Int64, at path: String) async throws
    /// Where the last effect of `kind` of job `id` put its file (`placed`, else its target), if there was one.
    func lastPlacement(job id: Int64, kind: FileEffect.Kind) async throws -> String?

    /// Records a new output location for a job in `publishing`, before the publisher claims it (the one recorded
    /// was taken by another job's package).
    /// - Throws: ``StoreError`` when the job is not publishing, or `lease` (when given) is not its lease any more.
    func relocate(_ id: Int64, to location: String, lease: Int64?) async throws

    /// Events after `id`, oldest first (the status server's event stream).
    func events(after id: Int64, limit: Int) async throws -> [JobEvent]

    /// Deletes the events created before `cutoff` (`[state] keep_events_days`). Jobs are kept, and so are the events
    /// that still have a webhook delivery pending.
    /// - Returns: how many events were deleted.
    @discardableResult
    func pruneEvents(before cutoff: Date) async throws -> Int
}

extension JobStore {
    /// Claims as this host (``NodeIdentity/standalone``).
    public func claimNext(now: Date) async throws -> Job? {
        try await claimNext(now: now, node: .standalone)
    }

    /// A transition made without a lease: the CLI's (`retry`, `cancel`) and the store's own callers.
    @discardableResult
    public func transition(_ id: Int64, _ change: JobTransition) async throws -> Job {
        try await transition(id, change, lease: nil)
    }

    /// Progress without a lease.
    public func updateProgress(_ id: Int64, fraction: Double, speed: Double?, eta: Double?) async throws {
        try await updateProgress(id, fraction: fraction, speed: speed, eta: eta, lease: nil)
    }

    /// Progress without speed or ETA.
    public func updateProgress(_ id: Int64, fraction: Double) async throws {
        try await updateProgress(id, fraction: fraction, speed: nil, eta: nil, lease: nil)
    }

    /// A new location without a lease.
    public func relocate(_ id: Int64, to location: String) async throws {
        try await relocate(id, to: location, lease: nil)
    }

    /// Claims effect `id` for `node` for `seconds` from `now`.
    public func claimEffect(_ id: Int64, node: String, now: Date, for seconds: TimeInterval) async throws -> Bool {
        try await claimEffect(id, node: node, until: now.addingTimeInterval(seconds), now: now)
    }

    /// The first page: newest first, optionally only `state`.
    public func list(state: Job.State?, limit: Int) async throws -> [Job] {
        try await list(state: state, limit: limit, before: nil)
    }

    /// The summary as of now.
    public func summary() async throws -> JobSummary {
        try await summary(now: Date())
    }

    /// The queue in run order as of now.
    public func nextQueued(limit: Int) async throws -> [Job] {
        try await nextQueued(limit: limit, now: Date())
    }
}
