import Foundation
import GRDB
import Logging
import ServiceLifecycleTestKit
import Testing
@testable import WatchFolder

/// `[state] keep_events_days`: old events go, with their delivered or failed webhook deliveries; events still
/// waiting for a delivery and every job stay.
@Suite struct EventRetentionTests {
    /// Three jobs (`a` and `b` 40 days old, `c` new) with one webhook endpoint: `a`'s delivery was delivered, `b`'s is
    /// still pending.
    private func history(_ dir: URL) async throws -> (SQLiteJobStore, [Int64]) {
        let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
        let queue = try WebhookQueue(store: store)
        _ = try await queue.register([Config.Webhook(url: "http://127.0.0.1:9/h", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")])
        let jobs = try await store.enqueue([file("a.mp4", inode: 1), file("b.mp4", inode: 2), file("c.mp4", inode: 3)])
        let ids = jobs.compactMap(\.id)
        let old = Date().addingTimeInterval(-40 * 86_400)
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE event SET created_at = ? WHERE job_id IN (?, ?)", arguments: [old, ids[0], ids[1]])
        }
        let deliveryOfA = try #require(try await queue.list(state: nil).first { $0.event.jobId == ids[0] })
        try await queue.markDelivered(deliveryOfA.delivery.id, status: 200)
        return (store, ids)
    }

    private func counts(_ store: SQLiteJobStore) async throws -> (events: [Int64], deliveries: Int, jobs: Int) {
        try await store.pool.read { db in
            (try Int64.fetchAll(db, sql: "SELECT DISTINCT job_id FROM event ORDER BY job_id"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job") ?? -1)
        }
    }

    @Test func oldEventsGoWithTheirDeliveriesUnlessADeliveryIsPending() async throws {
        try await withTempDir { dir in
            let (store, ids) = try await history(dir)
            #expect(try await counts(store).deliveries == 3)
            let deleted = try await store.pruneEvents(before: Date().addingTimeInterval(-30 * 86_400))
            #expect(deleted == 1)
            let after = try await counts(store)
            #expect(after.events == [ids[1], ids[2]], "a's delivered event is gone; b's pending one and c's new one stay")
            #expect(after.deliveries == 2)
            #expect(after.jobs == 3, "jobs are kept")
        }
    }

    @Test func theDaemonServicePrunesAtStartAndStopsOnShutdown() async throws {
        try await withTempDir { dir in
            let (store, ids) = try await history(dir)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await EventPruner(store: store, keepDays: 30, interval: .milliseconds(20), logger: Logger(label: "test")).run()
                    }
                    let deadline = ContinuousClock.now + .seconds(10)
                    while try await counts(store).events.first == ids[0], ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
            #expect(try await counts(store).events == [ids[1], ids[2]])
        }
    }

    @Test func keepEventsDaysZeroKeepsEverything() async throws {
        try await withTempDir { dir in
            let (store, ids) = try await history(dir)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await EventPruner(store: store, keepDays: 0, interval: .milliseconds(20), logger: Logger(label: "test")).run()
                    }
                    try await Task.sleep(for: .milliseconds(200))
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
            #expect(try await counts(store).events == ids)
        }
    }
}
