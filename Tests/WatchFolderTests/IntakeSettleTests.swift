import Foundation
import Testing
@testable import WatchFolder

/// Uploads are taken only once complete: settle window, slow writers, renames, deletions, replacements.
@Suite(.timeLimit(.minutes(2))) struct IntakeSettleTests {
    @Test func fileSettlesOnlyAfterQuietWindow() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 0.6)) { log in
            let url = try box.write("clip.mp4", bytes: 4096)
            let written = ContinuousClock.now
            #expect(await log.wait(timeout: 5) { $0.settled == ["clip.mp4"] })
            let settledAt = try #require(log.settledAt("clip.mp4"))
            #expect(settledAt - written >= .milliseconds(600), "reported before settle_seconds passed")
            #expect(log.settledFiles.first?.fingerprint == fingerprint(url))
            #expect(log.settledFiles.first?.fingerprint.size == 4096)
        }
    }

    /// SMB style: the client closes and reopens the file between chunks, with pauses shorter than the window.
    @Test func slowWriterWithReopensSettlesOnceAfterLastChunk() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 0.5)) { log in
            let url = try box.write("slow.mp4", bytes: 1000)
            var last = ContinuousClock.now
            var longestPause = Duration.zero
            for _ in 0..<6 {
                try await idle(0.25)
                try box.append(url, bytes: 1000)
                longestPause = max(longestPause, ContinuousClock.now - last)
                last = ContinuousClock.now
            }
            #expect(await log.wait(timeout: 5) { !$0.settled.isEmpty })
            try await idle(0.6)
            // Only a machine so loaded that the writer paused longer than the window may see a partial file.
            if longestPause < .milliseconds(500) {
                #expect(log.settled == ["slow.mp4"], "a file still being written was taken")
                #expect(log.settledFiles.first?.fingerprint.size == 7000)
            }
            #expect(log.settledFiles.last?.fingerprint.size == 7000)
        }
    }

    /// One open handle, writes with pauses, no close until the end: MODIFY restarts the wait of a file
    /// that had been closed once already.
    @Test func writesAfterCloseRestartTheWait() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 0.5)) { log in
            let url = try box.write("reopened.mp4", bytes: 10)
            let handle = try FileHandle(forWritingTo: url)
            var last = ContinuousClock.now
            var longestPause = Duration.zero
            for _ in 0..<5 {
                try await idle(0.2)
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(repeating: 1, count: 100))
                longestPause = max(longestPause, ContinuousClock.now - last)
                last = ContinuousClock.now
            }
            if longestPause < .milliseconds(500) {
                #expect(log.settled.isEmpty, "settled while another writer was still writing")
            }
            try handle.close()
            #expect(await log.wait(timeout: 5) { $0.settledFiles.last?.fingerprint.size == 510 })
            if longestPause < .milliseconds(500) {
                #expect(log.settledFiles.map(\.fingerprint.size) == [510])
            }
        }
    }

    /// SFTP style: `NAME.filepart` written slowly, then renamed to its final name.
    @Test func writeThenRenameTakesOnlyTheFinalName() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 0.3)) { log in
            let part = try box.write("upload.mp4.filepart", bytes: 500)
            for _ in 0..<3 {
                try await idle(0.4)
                try box.append(part, bytes: 500)
            }
            try await idle(0.4)
            #expect(log.settled.isEmpty, "the .filepart was taken")
            try FileManager.default.moveItem(at: part, to: box.inbox.appendingPathComponent("upload.mp4"))
            #expect(await log.wait(timeout: 5) { $0.settled == ["upload.mp4"] })
            #expect(log.settledFiles.first?.fingerprint.size == 2000)
            try await idle(0.4)
            #expect(log.settled == ["upload.mp4"])
        }
    }

    @Test func fileDeletedBeforeItSettlesIsForgotten() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 1.0)) { log in
            let start = ContinuousClock.now
            let doomed = try box.write("doomed.mp4")
            try FileManager.default.removeItem(at: doomed)
            // Replaced by a folder of the same name before it settled.
            let vanishing = try box.write("vanishing.mp4")
            try FileManager.default.removeItem(at: vanishing)
            try FileManager.default.createDirectory(at: vanishing, withIntermediateDirectories: false)
            let deletedWithin = ContinuousClock.now - start
            try box.write("kept.mp4")
            #expect(await log.wait(timeout: 5) { $0.settled.contains("kept.mp4") })
            try await idle(0.3)
            if deletedWithin < .seconds(1) {  // else the machine stalled longer than the window
                #expect(log.settled == ["kept.mp4"])
            }
            #expect(!log.all.contains { if case .paused = $0 { true } else { false } })
        }
    }

    /// A file replaced after it was reported comes back with its new fingerprint.
    @Test func replacedFileIsReportedAgainWithNewFingerprint() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 0.2)) { log in
            try box.write("again.mp4", bytes: 100)
            #expect(await log.wait(timeout: 5) { $0.settled.count == 1 })
            let replacement = try box.write("again.mp4", bytes: 300, in: box.outside)
            try FileManager.default.removeItem(at: box.inbox.appendingPathComponent("again.mp4"))
            try FileManager.default.moveItem(at: replacement, to: box.inbox.appendingPathComponent("again.mp4"))
            #expect(await log.wait(timeout: 5) { $0.settled.count == 2 })
            let files = log.settledFiles
            #expect(files.map(\.relativePath) == ["again.mp4", "again.mp4"])
            #expect(files.map(\.fingerprint.size) == [100, 300])
            #expect(files[0].fingerprint.inode != files[1].fingerprint.inode)
        }
    }
}
