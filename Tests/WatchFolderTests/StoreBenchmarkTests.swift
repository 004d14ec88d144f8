import Foundation
import GRDB
import TestSupport
import Testing
@testable import WatchFolder

/// Job-store figures, run by `bench/store.sh` (`WATCHFOLDER_BENCH=1`): 10,000 no-op jobs enqueued (in intake's
/// batches of 2,000), then each claimed under a lease, moved to publishing and completed, one node, on SQLite. The
/// reference, in the same run and on the same disk, is the least any durable store does for the same work: the same
/// rows inserted in the same batches, then three one-row UPDATE transactions per job, each synced (WAL, FULL).
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: ProcessInfo.processInfo.environment["WATCHFOLDER_BENCH"] != nil))
struct StoreBenchmarkTests {
    static let count = 10_000
    static let batch = 2_000

    @Test func tenThousandNoOpJobsThroughTheStoreAgainstBareSQLite() async throws {
        try await withTempDir { dir in
            let files = (0..<Self.count).map {
                InboxFile(relativePath: "d\($0 % 100)/f\($0).mp4",
                          fingerprint: Fingerprint(device: 1, inode: UInt64($0 + 1), size: 1000, mtimeNanoseconds: 1))
            }
            // The store: what the daemon does for each job, without the transcode.
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("store/watchfolder.sqlite"))
            let node = NodeIdentity(name: "bench", leaseSeconds: 30)
            let statementsBefore = store.statementsExecuted
            let start = ContinuousClock.now
            for chunk in stride(from: 0, to: files.count, by: Self.batch) {
                _ = try await store.enqueue(Array(files[chunk..<min(chunk + Self.batch, files.count)]))
            }
            let enqueued = ContinuousClock.now
            var done = 0
            while let job = try await store.claimNext(now: Date(), node: node), let id = job.id {
                _ = try await store.transition(id, .publishing(location: "out/\(id)", encoder: "libx264", manifest: "{}"),
                                               lease: job.leaseToken)
                _ = try await store.transition(id, .completed(location: "out/\(id)", master: nil, effect: nil), lease: job.leaseToken)
                done += 1
            }
            let storeEnd = ContinuousClock.now
            #expect(done == Self.count)
            let statements = Double(store.statementsExecuted - statementsBefore) / Double(Self.count)

            // The reference: bare SQLite through GRDB, the same durability.
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            let bare = try DatabasePool(path: dir.appendingPathComponent("bare.sqlite").path, configuration: configuration)
            try await bare.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "CREATE TABLE job (id INTEGER PRIMARY KEY, path TEXT NOT NULL, state TEXT NOT NULL)")
            }
            let bareStart = ContinuousClock.now
            for chunk in stride(from: 0, to: files.count, by: Self.batch) {
                let slice = files[chunk..<min(chunk + Self.batch, files.count)]
                try await bare.write { db in
                    for file in slice { try db.execute(sql: "INSERT INTO job (path, state) VALUES (?, 'queued')", arguments: [file.relativePath]) }
                }
            }
            let bareEnqueued = ContinuousClock.now
            for id in 1...Self.count {
                for state in ["running", "publishing", "completed"] {
                    try await bare.write { db in
                        try db.execute(sql: "UPDATE job SET state = ? WHERE id = ?", arguments: [state, id])
                    }
                }
            }
            let bareEnd = ContinuousClock.now

            func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
            let storeTotal = seconds(storeEnd - start), bareTotal = seconds(bareEnd - bareStart)
            let storeRun = seconds(storeEnd - enqueued), bareRun = seconds(bareEnd - bareEnqueued)
            print(String(format: "BENCH store sqlite 1 node: %d jobs enqueued in %.2f s, claimed+published+completed in %.2f s: %.0f jobs/s end to end, %.0f µs and %.1f statements per job",
                         Self.count, seconds(enqueued - start), storeRun, Double(Self.count) / storeTotal, storeRun / Double(Self.count) * 1e6, statements))
            print(String(format: "BENCH store reference (bare SQLite, same syncs): enqueued in %.2f s, 3 updates per job in %.2f s: %.0f jobs/s, %.0f µs per job",
                         seconds(bareEnqueued - bareStart), bareRun, Double(Self.count) / bareTotal, bareRun / Double(Self.count) * 1e6))
            print(String(format: "BENCH store ratio store/reference: %.2fx wall; the store's overhead per job %.0f µs",
                         storeTotal / bareTotal, (storeRun - bareRun) / Double(Self.count) * 1e6))
        }
    }

    /// The same 10,000 jobs on the PostgreSQL store (the test cluster: loopback, `fsync = off`), claimed by 1 node and
    /// by 4 nodes at once. The reference, on the same server in the same run, is bare PostgreSQL doing the same
    /// inserts and three one-row UPDATE statements per job (each its own transaction), by as many clients.
    @Test(arguments: [1, 4]) func tenThousandNoOpJobsThroughThePostgreSQLStore(_ nodes: Int) async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        let stores = try await (0..<nodes).asyncMap { _ in try await PostgresJobStore(url: url, logger: quietLogger) }
        defer { stores.forEach { $0.close() } }
        let files = (0..<Self.count).map {
            InboxFile(relativePath: "d\($0 % 100)/f\($0).mp4",
                      fingerprint: Fingerprint(device: 1, inode: UInt64($0 + 1), size: 1000, mtimeNanoseconds: 1))
        }
        let statementsBefore = stores.reduce(0) { $0 + $1.statementsExecuted }
        let start = ContinuousClock.now
        for chunk in stride(from: 0, to: files.count, by: Self.batch) {
            _ = try await stores[0].enqueue(Array(files[chunk..<min(chunk + Self.batch, files.count)]))
        }
        let enqueued = ContinuousClock.now
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for (n, store) in stores.enumerated() {
                group.addTask {
                    let node = NodeIdentity(name: "bench-\(n)", leaseSeconds: 30)
                    var done = 0
                    while let job = try await store.claimNext(now: Date(), node: node), let id = job.id {
                        _ = try await store.transition(id, .publishing(location: "out/\(id)", encoder: "libx264", manifest: "{}"),
                                                       lease: job.leaseToken)
                        _ = try await store.transition(id, .completed(location: "out/\(id)", master: nil, effect: nil),
                                                       lease: job.leaseToken)
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let storeEnd = ContinuousClock.now
        #expect(done == Self.count)
        let statements = Double(stores.reduce(0) { $0 + $1.statementsExecuted } - statementsBefore) / Double(Self.count)

        try await stores[0].execute(unsafeSQL: "CREATE TABLE bare (id bigserial PRIMARY KEY, path text NOT NULL, state text NOT NULL)")
        let bareStart = ContinuousClock.now
        for chunk in stride(from: 0, to: Self.count, by: Self.batch) {
            try await stores[0].execute(unsafeSQL: """
                INSERT INTO bare (path, state) SELECT 'd' || (g % 100) || '/f' || g || '.mp4', 'queued'
                FROM generate_series(\(chunk), \(min(chunk + Self.batch, Self.count) - 1)) g
                """)
        }
        let bareEnqueued = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, store) in stores.enumerated() {
                group.addTask {
                    for id in stride(from: n + 1, through: Self.count, by: nodes) {
                        for state in ["running", "publishing", "completed"] {
                            try await store.execute(unsafeSQL: "UPDATE bare SET state = '\(state)' WHERE id = \(id)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let bareEnd = ContinuousClock.now

        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let storeTotal = seconds(storeEnd - start), bareTotal = seconds(bareEnd - bareStart)
        let storeRun = seconds(storeEnd - enqueued), bareRun = seconds(bareEnd - bareEnqueued)
        print(String(format: "BENCH store postgresql %d node(s): %d jobs enqueued in %.2f s, claimed+published+completed in %.2f s: %.0f jobs/s end to end, %.0f µs and %.1f statements per job",
                     nodes, Self.count, seconds(enqueued - start), storeRun, Double(Self.count) / storeTotal,
                     storeRun / Double(Self.count) * 1e6, statements))
        print(String(format: "BENCH store reference (bare PostgreSQL, %d client(s), 3 one-row updates per job): enqueued in %.2f s, updates in %.2f s: %.0f jobs/s, %.0f µs per job",
                     nodes, seconds(bareEnqueued - bareStart), bareRun, Double(Self.count) / bareTotal, bareRun / Double(Self.count) * 1e6))
        print(String(format: "BENCH store ratio postgresql %d node(s) store/reference: %.2fx wall; the store's overhead per job %.0f µs",
                     nodes, storeTotal / bareTotal, (storeRun - bareRun) / Double(Self.count) * 1e6))
    }
}

private extension Range<Int> {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async throws -> [T] {
        var out: [T] = []
        for i in self { out.append(try await transform(i)) }
        return out
    }
}
