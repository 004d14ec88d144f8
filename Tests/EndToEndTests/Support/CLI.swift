import Foundation
import TestSupport
import Testing

/// Runs `executable` with `arguments` to completion, capturing output (TestSupport's `runToCompletion`).
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
) async throws -> ProcessResult {
    let result = try await runToCompletion(executable, arguments, environment: environment, currentDirectory: currentDirectory,
                                     timeout: timeout)
    if result.timedOut {
        Issue.record("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) timed out after \(timeout)s")
    }
    return result
}

/// Runs the `watchfolder` binary under test.
@discardableResult
func watchfolder(_ arguments: String..., environment: [String: String] = [:], timeout: TimeInterval = 120) async throws -> ProcessResult {
    try await runProcess(watchfolderBinary, arguments, environment: environment, timeout: timeout)
}

/// A fresh temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try await body(dir)
}

/// Runs a tool found on PATH; fails the test if it is missing (`make test` installs every tool the tests use).
@discardableResult
func tool(_ name: String, _ arguments: [String], timeout: TimeInterval = 120) async throws -> ProcessResult {
    try await runProcess(try installedTool(name), arguments, timeout: timeout)
}

/// Writes a minimal valid config under `dir` (inbox, outbox, archive, failed, state) plus `extra` TOML, and
/// returns its path.
func writeConfig(in dir: URL, inbox extraInbox: String = "", state extraState: String = "", extra: String = "") throws -> URL {
    let config = dir.appendingPathComponent("config.toml")
    let text = """
        [inbox]
        path = "inbox"
        archive_path = "archive"
        failed_path = "failed"
        \(extraInbox)

        [state]
        path = "state"
        \(extraState)

        [outbox]
        path = "outbox"

        \(extra)
        """
    try text.write(to: config, atomically: true, encoding: .utf8)
    return config
}
