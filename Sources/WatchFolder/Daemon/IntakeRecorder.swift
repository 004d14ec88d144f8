import Foundation
import GRDB
public import Logging
public import ServiceLifecycle
import Synchronization

/// Takes intake's events without waiting and records them in batches: everything that arrived while the
/// previous batch was being written goes into one transaction (a flood of thousands of files costs a few
/// transactions, a single upload is recorded at once).
///
/// Never drops a batch: a write that fails (the database busy past its timeout, a full disk) is kept and tried
/// again after a backoff (0.1 s doubling to `maxBackoff`). While writes fail, intake is paused with one error line;
/// what the inbox reports meanwhile waits in memory (one entry per path, the latest report), and is recorded when
/// the store accepts writes again (`intake resumed`). Files still unrecorded at shutdown are found by the
/// start-up rescan.
public final class IntakeRecorder: Service, Sendable {
    let store: any JobStore
    let wakeScheduler: @Sendable () -> Void
    let logger: Logger
    let maxBackoff: Duration
    private let pending = Mutex(PendingFiles())
    private let failedWrites = Atomic(0)
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// - Parameters:
    ///   - wakeScheduler: called after new jobs were recorded.
    ///   - maxBackoff: the longest wait between two attempts while the store refuses writes.
    public init(store: any JobStore, logger: Logger, maxBackoff: Duration = .seconds(5),
                wakeScheduler: @escaping @Sendable () -> Void) {
        self.store = store
        self.wakeScheduler = wakeScheduler
        self.logger = logger
        self.maxBackoff = maxBackoff
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Intake's handler: queues the files and returns at once.
    public func handle(_ event: IntakeEvent) {
        switch event {
        case let .settled(file): pending.withLock { $0.add(file) }
        case let .rescanned(files): pending.withLock { for file in files { $0.add(file) } }
        case let .paused(reason): logger.error("intake paused: \(reason)")
        case .resumed: logger.notice("intake resumed")
        }
        wake.yield()
    }

    /// Files reported and not recorded yet.
    public var waiting: Int { pending.withLock { $0.count } }

    /// Writes the store refused so far.
    public var failures: Int { failedWrites.load(ordering: .relaxed) }

    public func run() async throws {
        for await _ in wakes.cancelOnGracefulShutdown() { await flush() }
        await flush()  // what intake reported before it stopped
    }

    /// Records everything pending, retrying failed writes; returns when nothing waits (or at shutdown).
    func flush() async {
        var delay = Duration.milliseconds(100)
        var failing = false
        while true {
            let batch = pending.withLock { $0.first(2_000) }
            guard !batch.isEmpty else { return }
            do {
                let created = try await store.enqueue(batch)
                pending.withLock { $0.remove(batch) }
                for job in created {
                    logger.info("job queued", metadata: ["wf.job.id": "\(job.id ?? 0)", "wf.job.file": "\(job.sourcePath)",
                                                         "wf.job.state": "queued"])
                }
                if !created.isEmpty { wakeScheduler() }
                if failing {
                    failing = false
                    delay = .milliseconds(100)
                    logger.notice("intake resumed: the job store records files again")
                }
            } catch {
                failedWrites.add(1, ordering: .relaxed)
                if !failing {
                    failing = true
                    logger.error("intake paused: cannot record \(batch.count) file(s) in the job store: \(Self.reason(error)); retrying until it can, nothing is dropped")
                }
                if Task.isShuttingDownGracefully || Task.isCancelled {
                    logger.warning("\(waiting) file(s) not recorded at shutdown: the next start finds them again")
                    return
                }
                let wait = delay
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                delay = min(delay * 2, maxBackoff)
            }
        }
    }

    /// One line: what the administrator has to do about a failed write.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_FULL: return "the disk holding the job store is full (free some space; intake resumes by itself)"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database stayed locked (\(error.message ?? "busy"))"
        default: return error.message ?? "\(error)"
        }
    }
}
