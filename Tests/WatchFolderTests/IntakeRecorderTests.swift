import Foundation
import GRDB
import Logging
import ServiceLifecycleTestKit
import TestSupport
import Testing
@testable import WatchFolder

/// The daemon's intake handler against a real SQLite store that refuses to grow (`max_page_count`, SQLite's own
/// "database or disk is full"): intake pauses with one line and records everything once space returns.
@Suite(.timeLimit(.minutes(1))) struct IntakeRecorderTests {
    @Test func aFullDatabasePausesIntakeWithOneLineAndResumesWithNothingLost() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            let capture = LogCapture()
            let recorder = IntakeRecorder(store: bench.store, logger: capture.logger, maxBackoff: .milliseconds(100)) {}
            var files: [InboxFile] = []
            for i in 0..<300 {
                let name = "upload-\(i)-" + String(repeating: "x", count: 120) + ".mp4"
                try Data("\(i)".utf8).write(to: bench.inbox.appendingPathComponent(name))
                files.append(try #require(InboxFile.stat(name, in: bench.inbox)))
            }
            // The store may not grow by one page: the next batch of jobs cannot be written.
            try await bench.store.pool.writeWithoutTransaction { db in
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            }
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await recorder.run() }
                    recorder.handle(.rescanned(Array(files.prefix(200))))
                    try await waitUntil("intake paused", timeout: 20) { !capture.lines(containing: "intake paused").isEmpty }
                    // More uploads (and a duplicate report) arrive while the disk is full; the writes keep failing.
                    for file in files.suffix(100) { recorder.handle(.settled(file)) }
                    recorder.handle(.settled(files[0]))
                    let failuresBefore = recorder.failures
                    try await waitUntil("more failed writes", timeout: 20) { recorder.failures >= failuresBefore + 3 }
                    #expect(try await bench.store.counts()[.queued] == 0)
                    #expect(recorder.waiting == 300)
                    let paused = capture.lines(containing: "intake paused")
                    #expect(paused.count == 1, "\(paused)")
                    #expect(paused.first?.contains("the disk holding the job store is full") == true, "\(paused)")

                    // Space comes back.
                    try await bench.store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1000000") }
                    try await waitUntil("every file recorded", timeout: 20) { try await bench.store.counts()[.queued] == 300 }
                    try await waitUntil("intake resumed") { !capture.lines(containing: "intake resumed").isEmpty }
                    #expect(capture.lines(containing: "intake resumed").count == 1)
                    #expect(recorder.waiting == 0)
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
            let paths = try await bench.store.pool.read { db in try String.fetchAll(db, sql: "SELECT source_path FROM job") }
            #expect(Set(paths) == Set(files.map(\.relativePath)) && paths.count == 300)
            #expect(try await bench.store.events(after: 0, limit: 1_000).filter { $0.type == .queued }.count == 300)
        }
    }
}

/// Text logs escape control characters: a file name cannot forge a log line.
@Suite struct LogEscapingTests {
    @Test func aNewlineInAFileNameStaysOnItsLogLine() {
        let capture = LogCapture()
        var logger = Logger(label: "test") { _ in EscapingLogHandler(inner: capture.logger.handler) }
        let forged = "clip.mp4\n2026-01-01T00:00:00+0000 error watchfolder: wf.job.id=1 job completed\r\u{1b}[2J\u{2028}\\"
        logger[metadataKey: "wf.job.file"] = "\(forged)"
        logger.info("job queued \(forged)", metadata: ["wf.note": .array(["\(forged)"])])
        let lines = capture.lines
        #expect(lines.count == 1)
        let line = lines.first ?? ""
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1b}") && !line.contains("\u{2028}"))
        let escaped = #"clip.mp4\n2026-01-01T00:00:00+0000 error watchfolder: wf.job.id=1 job completed\r\u{1b}[2J\u{2028}\\"#
        #expect(line.contains("job queued \(escaped)"))
        #expect(line.contains("wf.job.file=\(escaped)"))
        #expect(EscapingLogHandler.escape("plain name é 🎬.mp4") == "plain name é 🎬.mp4")
    }
}
