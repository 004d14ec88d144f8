import Foundation
import TestSupport
import Testing

/// A `watchfolder run` process under test, its output captured in files.
final class DaemonProcess: @unchecked Sendable {
    let process = ChildProcess()
    let config: URL
    let stdoutURL: URL
    let stderrURL: URL

    /// Starts `watchfolder run --config config` and waits (without blocking a thread of the shared pool) until it
    /// has said where to drop files.
    /// - Parameters:
    ///   - wrapper: a command that runs the daemon (`["strace", "-f", ...]`); the daemon is then its child.
    ///   - openFiles: runs it with this `RLIMIT_NOFILE` (as systemd's `LimitNOFILE=` would), through `prlimit`.
    static func start(config: URL, wrapper: [String] = [], openFiles: Int? = nil) async throws -> DaemonProcess {
        let limit = openFiles.map { ["prlimit", "--nofile=\($0):\($0)", "--"] } ?? []
        let daemon = try DaemonProcess(config: config, wrapper: limit + wrapper)
        do {
            try await waitUntil("the daemon says where to drop files", timeout: 60) {
                guard daemon.process.isRunning else { throw Timeout(description: "the daemon exited: \(daemon.stderr)") }
                return daemon.stdout.contains("drop videos into")
            }
        } catch let error as Timeout {
            throw Timeout(description: "\(error) (running: \(daemon.process.isRunning); stdout: \(daemon.stdout); stderr: \(daemon.stderr))")
        }
        return daemon
    }

    private init(config: URL, wrapper: [String]) throws {
        self.config = config
        let dir = config.deletingLastPathComponent()
        let n = UUID().uuidString.prefix(8)
        stdoutURL = dir.appendingPathComponent("daemon-\(n).out")
        stderrURL = dir.appendingPathComponent("daemon-\(n).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        if wrapper.isEmpty {
            process.executableURL = watchfolderBinary
            process.arguments = ["run", "--config", config.path]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = wrapper + [watchfolderBinary.path, "run", "--config", config.path]
        }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The daemon's pid: the process itself, or the wrapper's child.
    var daemonPID: pid_t? {
        let pid = process.processIdentifier
        guard process.executableURL != watchfolderBinary else { return pid }
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { pid_t($0) }
    }

    /// Waits until the process (and a wrapper) exited on its own; its exit status, or nil after `timeout`.
    func waitForExit(timeout: TimeInterval = 60) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    /// Sends `signal` and waits for the exit; returns the exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 60) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            Issue.record("the daemon did not exit within \(timeout)s of signal \(signal)")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
}

/// `watchfolder jobs --json` as dictionaries.
func jobs(_ config: URL, state: String? = nil) async throws -> [[String: Any]] {
    var args = ["jobs", "--json", "--limit", "100000", "--config", config.path]
    if let state { args += ["--state", state] }
    let arguments = args
    let result = try await runProcess(watchfolderBinary, arguments)
    guard result.status == 0 else { throw Timeout(description: "jobs failed: \(result.stderr)") }
    return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
}

/// Waits until the first job listed runs and has reported progress (its transcode is under way).
func waitUntilTranscodeIsUnderWay(_ config: URL) async throws {
    try await waitUntil("the transcode is under way", timeout: 60) {
        try await jobs(config).first.map { $0["state"] as? String == "running" && ($0["progress"] as? Double ?? 0) > 0 } ?? false
    }
}

/// Job states by source path.
func states(_ config: URL) async throws -> [String: String] {
    var out: [String: String] = [:]
    for job in try await jobs(config) { out[job["source"] as? String ?? "?"] = job["state"] as? String }
    return out
}

/// Runs one SQL statement on the job database with Python's sqlite3 (an independent reader, and writer: a write is
/// committed), rows as strings.
func sql(_ database: URL, _ query: String) async throws -> [[String]] {
    let script = """
        import sqlite3, sys, json
        con = sqlite3.connect(sys.argv[1], timeout=10)
        rows = [[str(v) for v in row] for row in con.execute(sys.argv[2])]
        con.commit()
        print(json.dumps(rows))
        """
    let result = try await tool("python3", ["-c", script, database.path, query])
    guard result.status == 0 else { throw Timeout(description: "sqlite: \(result.stderr)") }
    return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String]]) ?? []
}

/// A daemon test folder: config with a tiny one-rung ladder, and the folders it names.
struct DaemonFolders {
    let root: URL
    let config: URL
    var inbox: URL { root.appendingPathComponent("inbox") }
    var outbox: URL { root.appendingPathComponent("outbox") }
    var archive: URL { root.appendingPathComponent("archive") }
    var failed: URL { root.appendingPathComponent("failed") }
    var work: URL { root.appendingPathComponent("state/work") }
    var database: URL { root.appendingPathComponent("state/watchfolder.sqlite") }

    init(root: URL, settle: Double = 0.5, inbox extraInbox: String = "", state: String = "", transcode: String = "", preset: String = "ultrafast",
         ladderHeight: Int = 144, extra: String = "") throws {
        self.root = root
        config = try writeConfig(in: root, inbox: "settle_seconds = \(settle)\n\(extraInbox)", state: state, extra: """
            [http]
            listen = "127.0.0.1:0"

            [transcode]
            hardware = "cpu"
            preset = "\(preset)"
            segment_seconds = 1
            thumbnails = 1
            shutdown_grace_seconds = 1
            \(transcode)

            [[transcode.ladder]]
            height = \(ladderHeight)
            video_bitrate = "\(ladderHeight > 200 ? 600 : 150)k"

            \(extra)
            """)
        for dir in [inbox, outbox] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    }

    /// Names under `dir`, recursively, relative to it, sorted.
    func tree(_ dir: URL) -> [String] { folderTree(dir) }

    func exists(_ url: URL, _ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent(relative).path)
    }

    /// Package folders directly in the outbox that hold a master playlist.
    func packages() -> [String] { packageFolders(in: outbox) }
}

/// Names under `dir`, recursively, relative to it, sorted.
func folderTree(_ dir: URL) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
    return (e.allObjects as? [String] ?? []).sorted()
}

/// Package folders directly in `outbox` that hold a master playlist, sorted.
func packageFolders(in outbox: URL) -> [String] {
    folderTree(outbox).filter { $0.hasSuffix("/master.m3u8") }.map { String($0.dropLast("/master.m3u8".count)) }
}

/// When a job listed by `jobs --json` finished, if it did.
func finishedAt(_ job: [String: Any]?) -> Date? {
    (job?["finished_at"] as? String)
        .flatMap { try? Date($0, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) }
}

/// A small clip made once per test run and copied where needed.
enum Clips {
    /// The 1 s 320x180 clip (made on first use).
    static func shared() async throws -> URL { try await sharedClip.value }
    /// The 20 s 640x360 clip.
    static func long() async throws -> URL { try await longClip.value }

    private static let sharedClip = Task {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wf-daemon-clip-\(getpid()).mp4")
        try await Fixtures.clip(url, seconds: 1, width: 320, height: 180)
        return url
    }

    private static let longClip = Task {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wf-daemon-long-\(getpid()).mp4")
        try await Fixtures.clip(url, seconds: 20, width: 640, height: 360)
        return url
    }

    /// Copies the clip to `url` through a temporary name and a rename (how `cp`-then-`mv` and SFTP clients do it).
    static func drop(_ source: URL, at url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).part")
        try FileManager.default.copyItem(at: source, to: temp)
        guard rename(temp.path, url.path) == 0 else { throw Timeout(description: "rename failed: \(errno)") }
    }
}

extension DaemonProcess {
    /// The status server's address, as the daemon says it on stdout (`http://127.0.0.1:PORT`, no trailing slash).
    func dashboardRoot() async throws -> String {
        try await waitUntil("the daemon says where the dashboard is", timeout: 20) { stdout.contains("dashboard at http://") }
        let line = try #require(stdout.split(separator: "\n").first { $0.contains("dashboard at ") })
        return String(line[try #require(line.range(of: "http://")).lowerBound...])
            .trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    /// The store statements the daemon ran during `seconds` of idling (`watchfolder_store_statements_total`, less the
    /// scrape's own reads), and what one scrape costs (more than 0, or the counter is not counting).
    func storeStatementsWhileIdle(seconds: Int = 3) async throws -> (idle: Double, scrape: Double) {
        let statements = "watchfolder_store_statements_total"
        _ = try await metric(statements)  // the status server's reader connection is open from here on
        let before = try #require(try await metric(statements))
        try await Task.sleep(for: .seconds(seconds))
        let after = try #require(try await metric(statements))
        let scrape = try #require(try await metric(statements)) - after
        return (after - before - scrape, scrape)
    }

    /// A counter from the daemon's `/metrics`.
    func metric(_ name: String) async throws -> Double? {
        let body = try await tool("curl", ["-s", "--max-time", "20", try await dashboardRoot() + "/metrics"]).stdout
        return body.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }
}
