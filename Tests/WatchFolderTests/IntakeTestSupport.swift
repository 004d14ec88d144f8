import Foundation
import Logging
import Synchronization
import Testing
@testable import WatchFolder

#if canImport(Glibc)
import Glibc
#endif

/// A unique temporary folder holding an `inbox/` (and room for files made outside it), removed by `remove()`.
struct IntakeSandbox {
    let root: URL
    var inbox: URL { root.appendingPathComponent("inbox") }
    var outside: URL { root.appendingPathComponent("outside") }

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("wf-intake-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("outside"), withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func config(settle: Double = 0.3, poll: Double = 0, recursive: Bool = true) -> Config.Inbox {
        Config.Inbox(path: inbox, recursive: recursive, settleSeconds: settle, pollSeconds: poll,
                     failedPath: inbox.appendingPathComponent(".failed"))
    }

    /// Writes `bytes` bytes into `inbox/relative` in one open/write/close (one CLOSE_WRITE).
    @discardableResult
    func write(_ relative: String, bytes: Int = 1000, in base: URL? = nil) throws -> URL {
        let url = (base ?? inbox).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: 0x61, count: bytes).write(to: url)
        return url
    }

    /// Writes a small file with raw `open`/`write`/`close` (no folder creation): fast enough for floods.
    func writeQuickly(_ relative: String, bytes: Int = 64) {
        let fd = open(inbox.appendingPathComponent(relative).path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        var data = [UInt8](repeating: 0x61, count: bytes)
        _ = Glibc.write(fd, &data, data.count)
        close(fd)
    }

    /// Appends `bytes` bytes to an existing file with its own open/append/close, as SMB clients do.
    func append(_ url: URL, bytes: Int = 1000) throws {
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0x62, count: bytes))
        try handle.close()
    }
}

/// Every event the intake reported, in order.
final class EventLog: Sendable {
    private let events = Mutex<[(at: ContinuousClock.Instant, event: IntakeEvent)]>([])

    func append(_ event: IntakeEvent) {
        let now = ContinuousClock.now
        events.withLock { $0.append((now, event)) }
    }

    var all: [IntakeEvent] { events.withLock { $0.map(\.event) } }

    /// When `relativePath` was first reported settled.
    func settledAt(_ relativePath: String) -> ContinuousClock.Instant? {
        events.withLock { events in
            events.first { if case .settled(let file) = $0.event { file.relativePath == relativePath } else { false } }?.at
        }
    }

    /// Paths of `.settled` events, in order (duplicates kept).
    var settled: [String] {
        all.compactMap { if case .settled(let file) = $0 { file.relativePath } else { nil } }
    }

    var settledFiles: [InboxFile] {
        all.compactMap { if case .settled(let file) = $0 { file } else { nil } }
    }

    /// The file lists of `.rescanned` events, in order.
    var rescans: [[InboxFile]] {
        all.compactMap { if case .rescanned(let files) = $0 { files } else { nil } }
    }

    /// Every path reported either way.
    var reported: Set<String> {
        Set(settled).union(rescans.flatMap { $0.map(\.relativePath) })
    }

    /// Waits (polling every 20 ms) until `condition` holds on this log; false on timeout.
    func wait(timeout: Double = 10, _ condition: (EventLog) -> Bool) async -> Bool {
        let end = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while ContinuousClock.now < end {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(self)
    }
}

let intakeTestLogger = Logger(label: "intake-test")

/// Runs a real ``Intake`` on `config` while `body` runs, after its start-up rescan; cancels it afterwards.
func withIntake(_ config: Config.Inbox, waitForStart: Bool = true,
                _ body: @escaping (EventLog) async throws -> Void) async throws {
    let log = EventLog()
    let intake = Intake(config: config, logger: intakeTestLogger) { log.append($0) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await intake.run() }
        if waitForStart {
            let started = await log.wait(timeout: 10) { !$0.rescans.isEmpty }
            try #require(started, "the intake never reported its start-up rescan")
        }
        try await body(log)
        group.cancelAll()
        try await group.waitForAll()
    }
}

/// Sleeps `seconds` in the test.
func idle(_ seconds: Double) async throws {
    try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
}

/// `stat` fingerprint of a file, as the intake computes it.
func fingerprint(_ url: URL) -> Fingerprint? { Fingerprint.of(regularFileAt: url.path) }
