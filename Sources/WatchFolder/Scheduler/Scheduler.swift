import Foundation
public import Logging
import Pipeline
public import ServiceLifecycle
import Synchronization

/// The bounded pool: takes queued jobs oldest first and runs at most `concurrency` of them at once, each as a
/// child of one task group; builds, publishes, retries with backoff, fails after `max_attempts`.
///
/// On start it recovers what a previous life left: `running` jobs go back to the queue (or fail when they have
/// used all their attempts: a file that crashes the daemon), `publishing` jobs whose package is already
/// published complete without being built again. On graceful shutdown it stops claiming, lets running jobs
/// finish for `shutdown_grace_seconds`, then stops and requeues them.
public final class Scheduler: Service, Sendable {
    /// Why a running job is stopped from outside.
    enum StopReason: Sendable { case cancelRequested, shutdown, leaseLost }

    /// A job this node runs: the way to stop it, and the lease it runs under.
    struct RunningJob: Sendable {
        var stop: AsyncStream<StopReason>.Continuation
        var lease: Int64?
        /// Taken over and being finished (``adopt(_:lease:)``), not run.
        var adopted = false
    }

    public let store: any JobStore
    let builder: any PackageBuilder
    let publisher: any Publisher
    let effects: FileEffectRunner
    let logger: Logger
    private let settingsBox: Mutex<SchedulerSettings>
    private let wakeStream: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    /// A GPU encoder produced the last package: `gpu_concurrency` more jobs may run.
    private let gpuInUse = Mutex(false)
    /// Running jobs, the way to stop each and its lease.
    private let running = Mutex<[Int64: RunningJob]>([:])
    /// The video encoder of the last package built here (the heartbeat tells `watchfolder nodes`).
    private let lastEncoder = Mutex<String?>(nil)
    /// When this node's leases were last renewed (the lease watchdog's clock).
    let lastRenewal = Mutex(ContinuousClock.now)

    public init(store: any JobStore, builder: any PackageBuilder, publisher: any Publisher,
                settings: SchedulerSettings, logger: Logger) {
        self.store = store
        self.builder = builder
        self.publisher = publisher
        self.logger = logger
        self.effects = FileEffectRunner(store: store, logger: logger, lockFile: settings.effectLockFile, node: settings.node)
        self.settingsBox = Mutex(settings)
        (wakeStream, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var settings: SchedulerSettings { settingsBox.withLock { $0 } }

    /// Applies new settings (SIGHUP); running jobs keep theirs, a new concurrency takes effect at once.
    public func reload(_ settings: SchedulerSettings) {
        settingsBox.withLock { $0 = settings }
        wake()
    }

    /// `concurrency`, plus `gpu_concurrency` while a GPU encoder is in use.
    var limit: Int {
        let settings = self.settings
        let gpu = gpuInUse.withLock { $0 } && settings.options.hardware != .cpu
        return settings.concurrency + (gpu ? settings.gpuConcurrency : 0)
    }

    /// Records which encoder the last build used (`libx264` is the CPU).
    func noteEncoder(_ encoder: String?) {
        guard let encoder else { return }
        gpuInUse.withLock { $0 = encoder != "libx264" }
        lastEncoder.withLock { $0 = encoder }
    }

    /// Asks the pool to look at the queue (new jobs, a finished job).
    public func wake() { wakeContinuation.yield() }

    /// Ids of the jobs running now.
    public var runningJobs: [Int64] { running.withLock { Array($0.keys) } }

    public func run() async throws {
        try await recover()
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask { await self.watchLoop() }
            outer.addTask { await self.heartbeatLoop() }
            outer.addTask { await self.shutdownWatcher() }
            await self.pool()
            outer.cancelAll()
        }
        try? await store.leave(node: settings.node, now: Date())
        logger.debug("scheduler stopped")
    }

    /// Claims and runs jobs until the wake stream ends (graceful shutdown), then waits for running jobs.
    private func pool() async {
        await withDiscardingTaskGroup { group in
            wake()
            for await _ in wakeStream {
                while running.withLock({ $0.count }) < limit {
                    let job: Job?
                    do { job = try await store.claimNext(now: Date(), node: settings.node) } catch {
                        logger.error("cannot claim a job: \(error)")
                        break
                    }
                    guard let job, let id = job.id else { break }
                    let (stops, stop) = AsyncStream.makeStream(of: StopReason.self, bufferingPolicy: .bufferingNewest(1))
                    running.withLock { $0[id] = RunningJob(stop: stop, lease: job.leaseToken) }
                    log(job, "job started", ["wf.job.attempt": "\(job.attempts)"])
                    group.addTask {
                        await self.execute(job, stops: stops)
                        _ = self.running.withLock { $0.removeValue(forKey: id) }
                        self.wake()
                    }
                }
            }
        }
    }

    /// Looks at the store after every commit to it instead of polling: wakes the pool (new, retried or released
    /// jobs), stops jobs whose cancellation was requested (`watchfolder cancel` from another process reaches the job
    /// as soon as its commit is seen) and carries out pending file effects. Between commits it sleeps until the next
    /// retry is due, or until a failed file effect is tried again (1 s, doubling to 60 s): an idle daemon runs no
    /// query.
    private func watchLoop() async {
        let commits = store.commitWaiter()
        defer { commits.cancel() }
        var effectBackoff = Duration.seconds(1)
        while !Task.isCancelled {
            wake()
            if let ids = try? await store.cancelRequests() {
                for id in ids { stop(id, .cancelRequested) }
            }
            var deadline: ContinuousClock.Instant?
            if await effects.runPending() {
                effectBackoff = .seconds(1)
            } else {
                deadline = .now + effectBackoff
                effectBackoff = min(effectBackoff * 2, .seconds(60))
            }
            if let retry = try? await store.nextRetry(after: Date()) {
                let due = ContinuousClock.now + .milliseconds(Int64(max(0, retry.timeIntervalSinceNow) * 1000) + 1)
                deadline = min(deadline ?? due, due)
            }
            await commits.wait(until: deadline)
        }
    }

    /// On graceful shutdown: stop claiming; after the grace period, stop and requeue what still runs.
    private func shutdownWatcher() async {
        do { try await gracefulShutdown() } catch { return }
        logger.info("shutting down: waiting up to \(settings.shutdownGraceSeconds) s for \(runningJobs.count) running job(s)")
        wakeContinuation.finish()
        try? await Task.sleep(for: .seconds(settings.shutdownGraceSeconds))
        if Task.isCancelled { return }
        for id in runningJobs { stop(id, .shutdown) }
    }

    func stop(_ id: Int64, _ reason: StopReason) {
        running.withLock { $0[id] }?.stop.yield(reason)
    }

    /// The leases of the jobs running here, by job id.
    var heldLeases: [Int64: Int64] { running.withLock { $0.compactMapValues(\.lease) } }

    /// Job `id`, taken over under `lease`, is being finished here (requeued, failed or published): the heartbeat
    /// renews its lease meanwhile and does not report it expired. False when it is already being finished.
    func adopt(_ id: Int64, lease: Int64?) -> Bool {
        running.withLock { running in
            guard running[id] == nil else { return false }
            running[id] = RunningJob(stop: AsyncStream.makeStream(of: StopReason.self).continuation, lease: lease, adopted: true)
            return true
        }
    }

    /// Job `id`, adopted, is finished (the pool may be running it again by now: that entry stays). Its slot is free:
    /// the pool looks for work again (the job itself, requeued, may be waiting for it).
    func release(_ id: Int64) {
        running.withLock { if $0[id]?.adopted == true { $0[id] = nil } }
        wake()
    }

    /// Job `id` holds its lease no more: its run is ending (its last transition is being recorded, or the lease
    /// could not be renewed). The heartbeat stops renewing it, and the watchdog says so once.
    func leaseStopped(_ id: Int64) {
        running.withLock { $0[id]?.lease = nil }
    }

    /// The encoder to show for this node: that of its last package, else the configured kind's CPU default.
    var encoderInUse: String? {
        lastEncoder.withLock { $0 } ?? (settings.options.hardware == .cpu ? "libx264" : settings.options.hardware.rawValue)
    }

    /// Logs one transition line with the job id and file name.
    func log(_ job: Job, _ message: String, level: Logger.Level = .info, _ metadata: Logger.Metadata = [:]) {
        var meta: Logger.Metadata = ["wf.job.id": "\(job.id ?? 0)", "wf.job.file": "\(job.sourcePath)"]
        meta.merge(metadata) { $1 }
        logger.log(level: level, "\(message)", metadata: meta)
    }
}
