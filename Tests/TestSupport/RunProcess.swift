public import Foundation

/// What a finished process left behind.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// The process ran past its timeout and was killed (SIGKILL).
    public var timedOut: Bool
    public var output: String { stdout + stderr }

    public init(status: Int32, stdout: String, stderr: String, timedOut: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }
}

/// Runs `executable` with `arguments` to completion, capturing stdout and stderr (through files, so a chatty child
/// never blocks on a full pipe); its standard input is /dev/null. Blocks the calling thread (see ``offPool(_:)``).
///
/// - Parameters:
///   - environment: Added to (and overriding) this process's environment.
///   - currentDirectory: The child's working directory; this process's when nil.
///   - timeout: After this many seconds the process is killed (SIGKILL) and the result has `timedOut` set: the
///     caller decides whether that fails the test (the test targets' runners record an issue).
/// - Throws: When the process cannot be started or its output files cannot be made.
@discardableResult
public func runToCompletion(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String] = [:],
    currentDirectory: URL? = nil,
    timeout: TimeInterval
) throws -> ProcessResult {
    let process = ChildProcess()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
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
    var timedOut = false
    while process.isRunning {
        if Date() > deadline {
            kill(process.processIdentifier, SIGKILL)
            timedOut = true
            break
        }
        usleep(20_000)
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return ProcessResult(status: process.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
                         timedOut: timedOut)
}

/// ``runToCompletion(_:_:environment:currentDirectory:timeout:)`` for async tests: the wait happens off the shared
/// cooperative pool (``offPool(_:)``). A child waited for on a pool thread blocks that thread; the pool has one
/// per core, so two such waits stall every other test in the process, timing-sensitive ones included.
@discardableResult
public func runToCompletion(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String] = [:],
    currentDirectory: URL? = nil,
    timeout: TimeInterval
) async throws -> ProcessResult {
    try await offPool {
        try runToCompletion(executable, arguments, environment: environment, currentDirectory: currentDirectory,
                            timeout: timeout)
    }
}

/// Waits, without blocking a thread, until `process` has exited; kills it (SIGKILL) after `timeout` seconds.
/// - Returns: false when it had to be killed.
@discardableResult
public func waitForExit(_ process: ChildProcess, timeout: TimeInterval = 120) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    guard process.isRunning else { return true }
    kill(process.processIdentifier, SIGKILL)
    while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    return false
}

/// The absolute path of `tool` on PATH or in the sbin and bin folders, or nil. A `tool` that is already an absolute
/// path is returned as is if it is executable.
public func which(_ tool: String) -> URL? {
    if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) ? URL(fileURLWithPath: tool) : nil }
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    for dir in path + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let candidate = URL(fileURLWithPath: dir).appendingPathComponent(tool)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
}

/// `tool` as ``which(_:)`` finds it.
/// - Throws: ``ToolFailure`` when it is not installed (`make test` installs every tool the tests use).
public func installedTool(_ tool: String) throws -> URL {
    guard let url = which(tool) else { throw ToolFailure(description: "\(tool) is not installed; `make test` installs it") }
    return url
}
