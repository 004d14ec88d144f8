import Foundation
import Testing

/// The package root, found from this file's path (tests run from anywhere).
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `watchfolder` binary under test: `$WATCHFOLDER_BIN`, else the debug build next to the tests.
let watchfolderBinary: URL = {
    if let env = ProcessInfo.processInfo.environment["WATCHFOLDER_BIN"], !env.isEmpty {
        return URL(fileURLWithPath: env)
    }
    let candidates = [".build/debug/watchfolder", ".build/x86_64-unknown-linux-gnu/debug/watchfolder"]
    for c in candidates {
        let url = packageRoot.appendingPathComponent(c)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return packageRoot.appendingPathComponent(candidates[0])
}()

/// What a finished process left behind.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `executable` with `arguments` to completion, capturing output.
/// - Parameters:
///   - environment: Added to (and overriding) this process's environment.
///   - timeout: The process is killed (SIGKILL) after this many seconds and the test fails.
@discardableResult
func runProcess(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String] = [:],
    currentDirectory: URL? = nil,
    timeout: TimeInterval = 120
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("wf-out-\(UUID().uuidString)")
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("wf-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
        if Date() > deadline {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Issue.record("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) timed out after \(timeout)s")
            break
        }
        usleep(20_000)
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    )
}

/// Runs the `watchfolder` binary under test.
@discardableResult
func watchfolder(_ arguments: String..., environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> ProcessResult {
    try runProcess(watchfolderBinary, arguments, environment: environment, timeout: timeout)
}

/// A fresh temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try await body(dir)
}

/// The absolute path of a tool on PATH (`ffmpeg`, `ffprobe`, `sftp`...), or nil.
func which(_ tool: String) -> URL? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let url = URL(fileURLWithPath: String(dir)).appendingPathComponent(tool)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    for dir in ["/usr/sbin", "/sbin"] {
        let url = URL(fileURLWithPath: dir).appendingPathComponent(tool)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return nil
}

/// Runs a tool found on PATH; fails the test if it is missing (`make test` installs every tool the tests use).
@discardableResult
func tool(_ name: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> ProcessResult {
    guard let url = which(name) else {
        struct Missing: Error, CustomStringConvertible { var description: String }
        throw Missing(description: "\(name) is not installed; `make test` installs it")
    }
    return try runProcess(url, arguments, timeout: timeout)
}

/// Writes a minimal valid config under `dir` (inbox, outbox, archive, failed, state) plus `extra` TOML, and
/// returns its path.
func writeConfig(in dir: URL, inbox extraInbox: String = "", extra: String = "") throws -> URL {
    let config = dir.appendingPathComponent("config.toml")
    let text = """
        [inbox]
        path = "inbox"
        archive_path = "archive"
        failed_path = "failed"
        \(extraInbox)

        [state]
        path = "state"

        [outbox]
        path = "outbox"

        \(extra)
        """
    try text.write(to: config, atomically: true, encoding: .utf8)
    return config
}
