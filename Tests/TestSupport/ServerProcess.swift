public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A server (sshd, smbd) run in the foreground for one test, in a process group of its own (smbd signals its whole
/// group when it stops), its stdout and stderr appended to `log`. ``stop()`` (or `deinit`) sends SIGTERM, then
/// SIGKILL after 10 s, and reaps it.
///
/// - Important: Spawned with `posix_spawn`, not Foundation's `Process`: sshd closes every inherited descriptor,
///   including the socket `Process` watches to notice an exit; Foundation then blocks in `waitpid` on the
///   still-running server and stops reaping every other child of the test process.
public final class ServerProcess: @unchecked Sendable {
    public let pid: pid_t
    public let log: URL
    private let name: String
    private let lock = NSLock()
    private var reaped = false

    /// Spawns `executable` (a name looked up with ``which(_:)``, or an absolute path).
    /// - Throws: ``ToolFailure`` when it is not installed or cannot be spawned.
    public init(_ executable: String, _ arguments: [String], log: URL) throws {
        let url = try installedTool(executable)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        try closeFrom(3, &actions)
        let argv: [UnsafeMutablePointer<CChar>?] = ([url.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var child: pid_t = 0
        let rc = posix_spawn(&child, url.path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw ToolFailure(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        pid = child
        name = executable
        self.log = log
    }

    /// Spawns the server and waits (without blocking a thread of the shared pool) until it listens on `port`.
    public static func start(_ executable: String, _ arguments: [String], port: Int, log: URL,
                             timeout: TimeInterval = 60) async throws -> ServerProcess {
        let server = try ServerProcess(executable, arguments, log: log)
        try await waitUntil("\(executable) listens on port \(port) (log: \(log.path))", timeout: timeout) {
            try server.isListening(on: port)
        }
        return server
    }

    /// Blocks the calling thread until the server listens on `port` (for tests that run off the pool).
    /// - Throws: ``ToolFailure`` with the log if the server exits first; ``Timeout`` after `timeout` seconds.
    public func waitUntilListening(on port: Int, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try isListening(on: port) { return }
            usleep(100_000)
        }
        throw Timeout(description: "nothing listens on port \(port) after \(Int(timeout))s: \(logText)")
    }

    /// Whether the server accepts connections on 127.0.0.1:`port`; throws ``ToolFailure`` once it has exited.
    private func isListening(on port: Int) throws -> Bool {
        guard isRunning else { throw ToolFailure(description: "\(name) exited: \(logText)") }
        return TestSupport.isListening(port)
    }

    private var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// False once the server has exited (and been reaped).
    public var isRunning: Bool {
        lock.withLock {
            if reaped { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { reaped = true }
            return !reaped
        }
    }

    /// SIGTERM, then SIGKILL if it is still running after 10 s; returns once it is reaped.
    public func stop() {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while isRunning && Date() < deadline { usleep(50_000) }
        lock.withLock {
            guard !reaped else { return }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            reaped = true
        }
    }

    deinit { stop() }
}
