import Foundation
import GRDB
import Logging
import Testing
@testable import WatchFolder

/// The start-up and Q_OVERFLOW path: a full rescan of the inbox reconciled with the store through the daemon's
/// intake handler (real files, real `Intake.rescan`, real SQLite).
@Suite struct StoreRescanTests {
    @Test func rescansReconcileTheInboxWithTheStoreRecordingNothingTwice() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            let inbox = Config.Inbox(path: bench.inbox, settleSeconds: 0, failedPath: dir.appendingPathComponent("failed"))
            for i in 0..<2_000 {
                let sub = bench.inbox.appendingPathComponent("d\(i % 10)")
                if i < 10 { try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true) }
                try Data("\(i)".utf8).write(to: sub.appendingPathComponent("f\(i).mp4"))
            }
            let recorder = IntakeRecorder(store: bench.store, logger: Logger(label: "test")) {}
            // Start-up rescan, then an overflow rescan that sees the same files plus duplicated settle events.
            let first = try await Intake.rescan(config: inbox)
            #expect(first.count == 2_000)
            recorder.handle(.rescanned(first))
            await recorder.flush()
            try Data("new".utf8).write(to: bench.inbox.appendingPathComponent("late.mp4"))
            let second = try await Intake.rescan(config: inbox)
            recorder.handle(.rescanned(second))
            await recorder.flush()
            for file in first.prefix(50) {
                recorder.handle(.settled(file))
                await recorder.flush()
            }
            let counts = try await bench.store.counts()
            #expect(counts[.queued] == 2_001)
            let rows = try bench.store.pool.read { db in
                try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COUNT(DISTINCT source_path) AS d FROM job")
            }
            #expect(rows?["n"] as Int? == 2_001 && rows?["d"] as Int? == 2_001)
            let queuedEvents = try await bench.store.events(after: 0, limit: 10_000).filter { $0.type == .queued }
            #expect(queuedEvents.count == 2_001)
        }
    }
}
