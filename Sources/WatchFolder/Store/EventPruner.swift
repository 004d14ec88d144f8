public import Foundation
import GRDB
public import Logging
public import ServiceLifecycle

extension SQLiteJobStore {
    /// Deletes the events created before `cutoff`. Jobs are kept. A layer above may keep some of them: the
    /// webhook tables delete an event's deliveries with it, and keep the events that still have one pending.
    /// - Returns: how many events were deleted.
    @discardableResult
    public func pruneEvents(before cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM event WHERE created_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}

/// Keeps the event history to `[state] keep_events_days` (0: forever): prunes at start, then every `interval`.
public struct EventPruner: Service {
    let store: any JobStore
    let keepDays: Int
    let interval: Duration
    let logger: Logger

    public init(store: any JobStore, keepDays: Int, interval: Duration = .seconds(3600), logger: Logger) {
        self.store = store
        self.keepDays = keepDays
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        guard keepDays > 0 else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let cutoff = Date().addingTimeInterval(-Double(keepDays) * 86_400)
            do {
                let deleted = try await store.pruneEvents(before: cutoff)
                if deleted > 0 {
                    logger.info("old events pruned", metadata: ["wf.events.deleted": "\(deleted)", "wf.events.keep_days": "\(keepDays)"])
                }
            } catch {
                logger.warning("cannot prune old events; will try again", metadata: ["wf.error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
