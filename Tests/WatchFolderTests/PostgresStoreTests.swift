import Foundation
import Testing
import PostgresNIO
import TestSupport
@testable import WatchFolder

/// What the PostgreSQL store does beyond the protocol's suites (StoreTests, LeaseTests run on both backends): its
/// URL, migrations under an advisory lock, claims by several nodes at once, and waking waiters through LISTEN/NOTIFY.
@Suite struct PostgresStoreTests {
    @Test func theURLSaysWhereAndHowAndAWrongOneIsNamedWithoutItsPassword() throws {
        let full = try PostgresLocation(url: "postgresql://wf:s%40cret@db.example:6543/jobs?sslmode=require", password: "other")
        #expect(full.user == "wf" && full.password == "s@cret" && full.host == "db.example" && full.port == 6543)
        #expect(full.database == "jobs" && full.tls == .require && full.redacted == "postgresql://wf@db.example:6543/jobs")
        let plain = try PostgresLocation(url: "postgres://wf@10.0.0.1/jobs", password: "from-file")
        #expect(plain.password == "from-file" && plain.port == 5432 && plain.tls == .prefer)
        for bad in ["mysql://wf@h/db", "postgresql://h:5432/db", "postgresql://wf:pw@h:5432/", "postgresql://wf:pw@h/db?sslmode=maybe",
                    "postgresql://wf:pw@h/db?pool=3"] {
            let error = #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: bad) }
            #expect(error?.message.contains("pw") == false, "the password stays out of the message: \(error?.message ?? "")")
            #expect(error?.message.contains("the job store URL") == true)
        }
    }

    @Test func migrationsAreAppliedOnceUnderALockEvenWhenNodesStartAtOnceAndANewerSchemaIsRefused() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        // Four nodes starting at the same moment: one migrates, the others find the schema there.
        let stores = try await withThrowingTaskGroup(of: PostgresJobStore.self) { group in
            for _ in 0..<4 { group.addTask { () async throws -> PostgresJobStore in try await PostgresJobStore(url: url, logger: quietLogger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { stores.forEach { $0.close() } }
        let store = try #require(stores.first)
        #expect(try await store.appliedMigrations() == PostgresJobStore.migrations.map(\.identifier).sorted())
        #expect(try await PostgresJobStore.migrate(store.session).isEmpty, "nothing is migrated twice")
        // The schema holds the invariants: an unknown state is refused.
        await #expect(throws: PostgresStoreError.self) {
            try await store.execute(unsafeSQL: """
                INSERT INTO job (source_path, device, inode, size, mtime_ns, state, created_at, updated_at)
                VALUES ('a.mp4', 1, 1, 1, 1, 'exploded', now(), now())
                """)
        }
        // A newer watchfolder added a migration: this one refuses the store, in one line that says to upgrade.
        try await store.execute(unsafeSQL: "INSERT INTO schema_migrations (identifier) VALUES ('v99-from-the-future')")
        let error = await #expect(throws: StoreError.self) { try await PostgresJobStore(url: url, logger: quietLogger) }
        #expect(error?.code == .newerSchema)
        #expect(error?.message.contains("v99-from-the-future") == true && error?.message.contains("upgrade") == true)
    }

    @Test func aServerThatIsNotThereIsNamedInTheError() async throws {
        let port = try freePort()
        let error = await #expect(throws: PostgresStoreError.self) {
            try await PostgresJobStore(url: "postgresql://wf:pw@127.0.0.1:\(port)/jobs?sslmode=disable", logger: quietLogger,
                                       startTimeout: .seconds(2))
        }
        #expect(error?.message.contains("127.0.0.1:\(port)/jobs") == true && error?.message.contains("pw") == false)
    }

    /// Two nodes claiming from the same queue at once never take the same job (`FOR UPDATE SKIP LOCKED`), and
    /// together they take all of them, oldest first on each node.
    @Test func nodesClaimingAtOnceNeverTakeTheSameJob() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        let a = try await PostgresJobStore(url: url, logger: quietLogger)
        let b = try await PostgresJobStore(url: url, logger: quietLogger)
        defer { a.close(); b.close() }
        _ = try await a.enqueue((1...40).map { file("\($0).mp4", inode: UInt64($0)) })
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (store, name) in [(a, "node-a"), (b, "node-b")] {
                group.addTask {
                    var ids: [Int64] = []
                    let node = NodeIdentity(name: name, leaseSeconds: 600)
                    while let job = try await store.claimNext(now: Date(), node: node) { ids.append(job.id ?? 0) }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let all = claimed.flatMap { $0 }
        #expect(all.count == 40 && Set(all).count == 40)
        for ids in claimed { #expect(ids == ids.sorted(), "each node takes the oldest first") }
        #expect(try await a.counts()[Job.State.running] == 40)
    }

    /// A file effect and a webhook endpoint's queue are each carried out by one node at a time: another node's claim
    /// waits until the first one's has run out (its node died) or the work is done.
    @Test func aFileEffectAndAWebhookQueueAreEachHeldByOneNodeAtATime() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        let a = try await PostgresJobStore(url: url, logger: quietLogger)
        let b = try await PostgresJobStore(url: url, logger: quietLogger)
        defer { a.close(); b.close() }
        let hook = Config.Webhook(url: "http://127.0.0.1:9/h", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let queueA = PostgresWebhookQueue(store: a, node: "node-a", holdSeconds: 60)
        let queueB = PostgresWebhookQueue(store: b, node: "node-b", holdSeconds: 60)
        let endpoint = try #require(try await queueA.register([hook]).values.first)
        #expect(try await queueB.register([hook]).values.first == endpoint)
        let job = try #require(try await a.enqueue([file("a.mp4", inode: 1)]).first?.id)

        guard case let .delivery(first) = try await queueA.next(endpoint: endpoint) else { Issue.record("node-a sends"); return }
        #expect(first.event.type == .queued && first.url == hook.url)
        guard case let .elsewhere(until) = try await queueB.next(endpoint: endpoint) else { Issue.record("node-b waits"); return }
        #expect(until.timeIntervalSinceNow > 50)
        try await queueA.markDelivered(first.delivery.id, status: 200)
        #expect(try await queueA.next(endpoint: endpoint) == .empty, "an empty queue is let go")
        _ = try await b.enqueue([file("b.mp4", inode: 2)])
        guard case .delivery = try await queueB.next(endpoint: endpoint) else { Issue.record("node-b sends now"); return }
        #expect(try await queueA.pendingCount() == 1)

        try await a.execute(unsafeSQL: """
            INSERT INTO effect (job_id, kind, source, target, device, inode, created_at)
            VALUES (\(job), 'archive', '/in/a.mp4', '/archive/a.mp4', 1, 1, now())
            """)
        let effect = try #require(try await a.pendingEffects(job: job).first?.id)
        let now = Date()
        #expect(try await a.claimEffect(effect, node: "node-a", now: now, for: 30))
        #expect(try await b.claimEffect(effect, node: "node-b", now: now, for: 30) == false)
        #expect(try await a.claimEffect(effect, node: "node-a", now: now, for: 30), "its own claim is renewed")
        #expect(try await b.claimEffect(effect, node: "node-b", now: now.addingTimeInterval(31), for: 30), "a claim that ran out")
        try await b.markEffectDone(effect)
        #expect(try await a.claimEffect(effect, node: "node-a", now: now.addingTimeInterval(120), for: 30) == false)
    }

    /// A session the server ends in the middle of a transaction (idle too long, an administrator, a restart) fails
    /// the store operation at once instead of leaving it waiting for an answer that never comes, and the next
    /// operation gets a fresh connection.
    @Test(.timeLimit(.minutes(1))) func aSessionTheServerEndsFailsTheOperationAtOnce() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        let store = try await PostgresJobStore(url: url, logger: quietLogger)
        let admin = try await PostgresJobStore(url: url, logger: quietLogger)
        defer { store.close(); admin.close() }
        let started = ContinuousClock.now
        await #expect(throws: PostgresStoreError.self) {
            try await store.session.write("a transaction whose session ends") { db in
                let pid = try #require(try await db.value("SELECT pg_backend_pid()", as: Int32.self))
                try await admin.execute(unsafeSQL: "SELECT pg_terminate_backend(\(pid))")
                try await Task.sleep(for: .milliseconds(500))  // the connection sees its end
                try await db.run("SELECT 2")
            }
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try await store.counts()[.queued] == 0)
    }

    /// A commit by another node wakes this node's waiters and change streams (LISTEN/NOTIFY); a claim that found
    /// nothing wakes nobody.
    @Test(.timeLimit(.minutes(1))) func anotherNodesCommitWakesTheWaitersHere() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        let here = try await PostgresJobStore(url: url, logger: quietLogger)
        let there = try await PostgresJobStore(url: url, logger: quietLogger)
        defer { here.close(); there.close() }
        let waiter = here.commitWaiter()
        defer { waiter.cancel() }
        var changes = here.changes().makeAsyncIterator()
        _ = await changes.next()  // the first tick comes at once

        _ = try await there.enqueue([file("a.mp4")])
        await waiter.wait(until: .now + .seconds(20))
        _ = await changes.next()
        let claimed = ContinuousClock.now
        #expect(try await there.claimNext(now: Date(), node: .standalone) != nil)
        await waiter.wait(until: .now + .seconds(20))
        #expect(ContinuousClock.now - claimed < .seconds(20), "the claim's commit woke the waiter")
        // Nothing left to claim: that claim commits nothing worth a wake-up.
        #expect(try await there.claimNext(now: Date(), node: .standalone) == nil)
        let quiet = ContinuousClock.now
        await waiter.wait(until: .now + .milliseconds(500))
        #expect(ContinuousClock.now - quiet >= .milliseconds(450), "a claim that found nothing woke the waiter")
    }

    @Test func statementsAreCountedAndAnIdleStoreRunsNone() async throws {
        let store = try await PostgresJobStore(url: try await PostgresServer.shared().makeDatabase(), logger: quietLogger)
        defer { store.close() }
        let before = store.statementsExecuted
        try await Task.sleep(for: .milliseconds(300))
        #expect(store.statementsExecuted == before)
        _ = try await store.job(1)
        #expect(store.statementsExecuted == before + 1)
        _ = try await store.enqueue([file("a.mp4")])
        #expect(store.statementsExecuted > before + 3)
    }
}
