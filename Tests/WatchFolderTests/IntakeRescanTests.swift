import Foundation
import Logging
import Synchronization
import Testing
@testable import WatchFolder

#if canImport(Glibc)
import Glibc
#endif

/// Drives an ``IntakeEngine`` by hand on the test's thread: events are read only when the test steps it.
final class ManualEngine {
    let wake: Int32
    var events: [IntakeEvent] = []
    var engine: IntakeEngine!

    init(_ config: Config.Inbox) throws {
        wake = try Inotify.eventFD()
        engine = IntakeEngine(config: config, logger: intakeTestLogger, wakeFD: wake) { [unowned self] in
            self.events.append($0)
        }
    }

    deinit { close(wake) }

    var rescans: [[String]] {
        events.compactMap { if case .rescanned(let files) = $0 { files.map(\.relativePath).sorted() } else { nil } }
    }

    var settled: [String] {
        events.compactMap { if case .settled(let file) = $0 { file.relativePath } else { nil } }
    }

    /// Steps the engine until `condition` holds; false after `timeout` seconds.
    func step(timeout: Double = 10, until condition: (ManualEngine) -> Bool) throws -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while !condition(self) && Date() < end { try engine.step() }
        return condition(self)
    }
}

/// Start-up rescans, the static rescan, queue overflows and polling.
@Suite(.timeLimit(.minutes(2))) struct IntakeRescanTests {
    @Test func staticRescanListsOnlyStableCandidates() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try box.write("stable.mp4")
        try box.write("nested/deep.mkv")
        try box.write("notes.txt")
        let growing = try box.write("growing.mp4")
        let stop = Atomic(false)
        let writer = Thread {
            while !stop.load(ordering: .relaxed) {
                try? box.append(growing, bytes: 10)
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        writer.start()
        defer { stop.store(true, ordering: .relaxed) }
        let files = try await Intake.rescan(config: box.config(settle: 0.8))
        #expect(files.map(\.relativePath).sorted() == ["nested/deep.mkv", "stable.mp4"])
        let flat = try await Intake.rescan(config: box.config(settle: 0.4, recursive: false))
        #expect(flat.map(\.relativePath) == ["stable.mp4"])
        #expect(files.first { $0.relativePath == "stable.mp4" }?.fingerprint == fingerprint(box.inbox.appendingPathComponent("stable.mp4")))
    }

    @Test func startupRescanWaitsOutTheSettleWindow() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try box.write("before.mp4")
        try box.write("old/before.mov")
        let growing = try box.write("uploading.mp4")
        let started = ContinuousClock.now
        try await withIntake(box.config(settle: 1.0), waitForStart: false) { log in
            // An upload in progress when the daemon starts (SMB style: reopen, append, close).
            for _ in 0..<6 {
                try box.append(growing, bytes: 100)
                try await idle(0.15)
            }
            #expect(await log.wait(timeout: 5) { !$0.rescans.isEmpty })
            #expect(ContinuousClock.now - started >= .milliseconds(1000))
            #expect(log.rescans.first?.map(\.relativePath).sorted() == ["before.mp4", "old/before.mov"])
            #expect(!log.settled.contains("uploading.mp4"))
            #expect(await log.wait(timeout: 5) { $0.settled.contains("uploading.mp4") })
            #expect(log.settledFiles.first { $0.relativePath == "uploading.mp4" }?.fingerprint.size == 1600)
        }
    }

    /// The overflow handler itself, fed an `IN_Q_OVERFLOW` event: a full rescan reporting what is there.
    @Test func overflowEventTriggersFullRescan() throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try box.write("present.mp4")
        let manual = try ManualEngine(box.config(settle: 0.2))
        manual.engine.start()
        #expect(try manual.step { $0.rescans.count == 1 })
        #expect(manual.rescans == [["present.mp4"]])
        // Files written before the overflow is handled (as if their events were lost in it). Their events are still
        // in the queue, and the steps below read them after the rescan: a late CLOSE_WRITE restarts that file's wait,
        // so on a loaded machine it may settle just after the rescan's window, and is reported then.
        try box.write("lost1.mp4")
        try box.write("sub/lost2.mp4")
        manual.engine.handle([.queueOverflow])
        let all: Set = ["lost1.mp4", "present.mp4", "sub/lost2.mp4"]
        #expect(try manual.step { $0.rescans.count == 2 && Set(($0.rescans.last ?? []) + $0.settled) == all })
        #expect(manual.rescans.last?.contains("present.mp4") == true)
        #expect((manual.rescans.last ?? []).count + manual.settled.count == 3, "each file reported once")
    }

    /// A real kernel queue overflow (the queue limit is left alone: the test just does not read for a while).
    @Test func realQueueOverflowIsRecoveredByRescan() throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        try #require(limit <= 1_000_000, "max_queued_events too large to overflow in a test")
        let manual = try ManualEngine(box.config(settle: 0.2))
        manual.engine.start()
        #expect(try manual.step { $0.rescans.count == 1 })
        // Alternating writes to two ignored files: each write is one event that cannot be coalesced.
        let a = open(box.inbox.appendingPathComponent("a.tmp").path, O_CREAT | O_WRONLY, 0o644)
        let b = open(box.inbox.appendingPathComponent("b.tmp").path, O_CREAT | O_WRONLY, 0o644)
        defer { close(a); close(b) }
        var byte: UInt8 = 1
        for _ in 0...(limit / 2 + 10) {
            _ = write(a, &byte, 1)
            _ = write(b, &byte, 1)
        }
        try box.write("after-overflow.mp4")
        #expect(try manual.step { $0.rescans.count == 2 })
        #expect(manual.rescans.last == ["after-overflow.mp4"])
    }

    /// Polling finds a file that raises no CLOSE_WRITE/MOVED_TO (hard-linked in); inotify alone does not.
    @Test func pollingFindsFilesWrittenBehindInotifysBack() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let source = try box.write("source.mp4", in: box.outside)
        // Control: inotify mode does not see it.
        try await withIntake(box.config(settle: 0.2)) { log in
            try FileManager.default.linkItem(at: source, to: box.inbox.appendingPathComponent("linked.mp4"))
            try await idle(1.5)
            #expect(log.reported.isEmpty)
        }
        try FileManager.default.removeItem(at: box.inbox.appendingPathComponent("linked.mp4"))
        try await withIntake(box.config(settle: 0.2, poll: 0.5)) { log in
            try FileManager.default.linkItem(at: source, to: box.inbox.appendingPathComponent("linked.mp4"))
            #expect(await log.wait(timeout: 5) { $0.reported.contains("linked.mp4") })
            // Every pass ends in a rescan listing it, and a write is noticed too.
            #expect(await log.wait(timeout: 5) { $0.rescans.filter { $0.map(\.relativePath) == ["linked.mp4"] }.count >= 2 })
            try box.write("written.mp4")
            #expect(await log.wait(timeout: 5) { $0.reported.contains("written.mp4") })
        }
    }

    @Test func pollingModeIsChosenForNetworkFilesystemsAndPollSeconds() throws {
        for magic: Int64 in [0x6969, 0xFF53_4D42, 0xFE53_4D42, 0x517B, 0x6573_5546] {
            #expect(FilesystemKind.networkName(magic: magic) != nil)
        }
        for magic: Int64 in [0xEF53, 0x0102_1994, 0x794C_7630, 0x5846_5342, 0x9123_683E] {  // ext4 tmpfs overlay xfs btrfs
            #expect(FilesystemKind.networkName(magic: magic) == nil)
        }
        let box = try IntakeSandbox()
        defer { box.remove() }
        #expect(FilesystemKind.networkName(at: box.inbox.path) == nil)
        let local = try ManualEngine(box.config(poll: 0))
        local.engine.start()
        #expect(local.engine.mode == .inotify)
        let forced = try ManualEngine(box.config(poll: 2))
        forced.engine.start()
        #expect(forced.engine.mode == .polling(intervalNanoseconds: 2_000_000_000, reason: "poll_seconds is set"))
        #expect(forced.engine.inotify == nil)
    }
}
