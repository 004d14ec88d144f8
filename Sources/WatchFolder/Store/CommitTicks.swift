import GRDB
import Synchronization

/// Says "the store changed" to whoever waits on it, instead of their polling it: the store ticks after each of its
/// commits, and the daemon ticks it for commits by other processes (the CLI's `cancel`, `retry`, `webhooks resend`),
/// which it sees by watching the database file. A waiter then reads what it needs; ticks carry nothing and coalesce.
public final class CommitTicks: Sendable {
    private let waiters = Mutex<[ObjectIdentifier: CommitWaiter]>([:])

    public init() {}

    /// A waiter that sees every tick from now on, until ``CommitWaiter/cancel()``.
    public func subscribe() -> CommitWaiter {
        let waiter = CommitWaiter(ticks: self)
        waiters.withLock { $0[ObjectIdentifier(waiter)] = waiter }
        return waiter
    }

    /// Something committed: wakes every waiter (or marks it, when it is not waiting right now).
    public func tick() {
        for waiter in waiters.withLock({ Array($0.values) }) { waiter.signal() }
    }

    func remove(_ waiter: CommitWaiter) {
        _ = waiters.withLock { $0.removeValue(forKey: ObjectIdentifier(waiter)) }
    }
}

/// One reader's view of ``CommitTicks``: ``wait(until:)`` returns at the first tick since the last wait returned.
/// Used by one task at a time.
public final class CommitWaiter: Sendable {
    private struct State {
        var pending = false
        var waiting: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    private weak let ticks: CommitTicks?

    init(ticks: CommitTicks) { self.ticks = ticks }

    /// Stops seeing ticks.
    public func cancel() { ticks?.remove(self) }

    /// Wakes the waiting task (a tick, or its owner stopping it), or the next wait when none waits now.
    public func signal() {
        let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiting = nil }
            if state.waiting == nil { state.pending = true }
            return state.waiting
        }
        waiting?.resume()
    }

    /// Returns at the first tick since the last wait returned (at once if one came meanwhile), when `deadline`
    /// passes, or when the task is cancelled.
    public func wait(until deadline: ContinuousClock.Instant? = nil) async {
        if state.withLock({ state in defer { state.pending = false }; return state.pending }) { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            if let deadline { group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) } }
            await group.next()
            group.cancelAll()
            // The sleeper ended first: the signal wait must end too (its cancellation handler resumes it).
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiting = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiting = nil }
                return state.waiting
            }
            waiting?.resume()
        }
    }
}

extension CommitTicks {
    /// Ticks after every commit through `pool` (the store's and the webhook queue's writes alike).
    static func observing(_ pool: DatabasePool) -> CommitTicks {
        let ticks = CommitTicks()
        pool.add(transactionObserver: CommitObserver(ticks: ticks), extent: .databaseLifetime)
        return ticks
    }
}

/// Ticks for commits that changed rows other than the `node` table's: a claim that found nothing commits an empty
/// transaction, and an idle node's heartbeat changes only its own row; neither must wake the scheduler that made it.
private final class CommitObserver: TransactionObserver {
    let ticks: CommitTicks
    private let changed = Atomic<Bool>(false)
    init(ticks: CommitTicks) { self.ticks = ticks }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName != "node" }
    func databaseDidChange(with event: DatabaseEvent) { changed.store(true, ordering: .relaxed) }
    func databaseDidCommit(_ db: Database) {
        if changed.exchange(false, ordering: .relaxed) { ticks.tick() }
    }
    func databaseDidRollback(_ db: Database) { changed.store(false, ordering: .relaxed) }
}

/// Statements run on the store's connections, for `/metrics` (`watchfolder_store_statements_total`): an idle daemon
/// runs none.
final class StatementCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.wrappingAdd(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
