import Foundation
import Testing

/// The package root, found from this file's path.
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// What a finished process left behind.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}

/// The absolute path of `tool` on PATH or in the sbin folders, or nil.
func which(_ tool: String) -> String? {
    if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    for dir in path + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let candidate = dir + "/" + tool
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs `tool` (found on PATH; `make test` installs every tool the tests use) to completion, capturing output.
/// The process is killed after `timeout` seconds and the test fails.
@discardableResult
func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
         timeout: TimeInterval = 300) throws -> ProcessResult {
    guard let executable = which(tool) else {
        throw ToolFailure(description: "\(tool) is not installed; `make test` installs it")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
        if Date() > deadline {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("\(tool) \(arguments.joined(separator: " ")) timed out after \(timeout)s")
            break
        }
        usleep(20_000)
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return ProcessResult(status: process.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// Runs `tool` and throws with its output unless it exits 0.
@discardableResult
func runChecked(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                timeout: TimeInterval = 300) throws -> ProcessResult {
    let result = try run(tool, arguments, environment: environment, timeout: timeout)
    guard result.status == 0 else {
        throw ToolFailure(description: "\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
    }
    return result
}

/// The version in `Sources/WatchFolder/Version.swift`, the one place it is written.
func sourceVersion() throws -> String {
    let text = try String(contentsOf: packageRoot.appendingPathComponent("Sources/WatchFolder/Version.swift"),
                          encoding: .utf8)
    guard let match = text.firstMatch(of: /static let string = "([^"]+)"/) else {
        throw ToolFailure(description: "no version in Version.swift")
    }
    return String(match.1)
}

/// The .deb `make deb` built: `$WATCHFOLDER_DEB`, else `watchfolder_<version>_amd64.deb` in the package root.
func builtDeb() throws -> URL {
    try DebBuild.shared.deb()
}

final class DebBuild: @unchecked Sendable {
    static let shared = DebBuild()
    private let lock = NSLock()
    private var result: Result<URL, any Error>?

    func deb() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let result { return try result.get() }
        let r = Result { try locate() }
        result = r
        return try r.get()
    }

    private func locate() throws -> URL {
        if let env = ProcessInfo.processInfo.environment["WATCHFOLDER_DEB"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let deb = packageRoot.appendingPathComponent("watchfolder_\(try sourceVersion())_amd64.deb")
        // Not built from here: `swift test` holds the build folder's lock that `swift build -c release` needs.
        guard FileManager.default.fileExists(atPath: deb.path) else {
            throw ToolFailure(description: "\(deb.lastPathComponent) is missing: run `make deb` (`make test` does)")
        }
        return deb
    }
}

/// A file's mode (permission and setgid bits), owner and group names.
struct FileInfo: Equatable, CustomStringConvertible {
    var mode: Int
    var owner: String
    var group: String
    var description: String { "\(String(mode, radix: 8)) \(owner):\(group)" }

    init(mode: Int, owner: String, group: String) {
        self.mode = mode
        self.owner = owner
        self.group = group
    }

    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        mode = Int(st.st_mode) & 0o7777
        owner = attributes[.ownerAccountName] as? String ?? "\(st.st_uid)"
        group = attributes[.groupOwnerAccountName] as? String ?? "\(st.st_gid)"
    }
}

/// Runs blocking work (tools, polling loops) on a dispatch queue of its own instead of Swift concurrency's small
/// cooperative pool (two threads here), so the other tests in this process, timing-sensitive ones included, keep
/// their threads. The same task runs it (a task executor preference), so `#expect` still reports to this test.
func offPool<T: Sendable>(_ body: () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(QueueExecutor()) {
        try body()
    }
}

/// A task executor running jobs on a private serial dispatch queue (dispatch's overcommit threads).
final class QueueExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "watchfolder.packaging-tests.blocking")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
