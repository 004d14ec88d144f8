public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process for tests, shaped like Foundation's `Process` (the subset the tests use) but spawned with
/// `posix_spawn` and reaped with `waitpid` by whoever asks.
///
/// Why not `Process`: on Linux it notices an exit through a socket the child inherits, and one manager thread
/// reaps every child. A child that closes its inherited descriptors (ssh, sshd) makes that thread block in
/// `waitpid` until it exits; a long-lived child spawned at the same moment as another one inherits the other's
/// socket, so that exit is never noticed. Either way `waitUntilExit` hangs and finished children stay zombies
/// (seen as `make test` stalling in `DebInstallTests` with four threads in `waitUntilExit`). Here every
/// descriptor above 2 is closed in the child, and nothing but the child's own pid is waited for.
public final class ChildProcess: @unchecked Sendable {
    public enum TerminationReason: Sendable { case exit, uncaughtSignal }

    public var executableURL: URL?
    public var arguments: [String] = []
    /// The child's whole environment; this process's when nil.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// A `FileHandle` or a `Pipe` (its reading end for input, writing end for output), `FileHandle.nullDevice`,
    /// or nil to inherit this process's descriptor.
    public var standardInput: Any?
    public var standardOutput: Any?
    public var standardError: Any?
    /// Starts the child in a process group of its own (its pid), as `Process` does.
    public var ownProcessGroup = true

    private let lock = NSLock()
    private var pid: pid_t = 0
    private var status: Int32?

    public init() {}

    public var processIdentifier: pid_t { lock.withLock { pid } }

    /// Spawns the child.
    /// - Throws: ``ToolFailure`` when it cannot be spawned (missing executable, bad directory).
    public func run() throws {
        guard let executable = executableURL?.path else { throw ToolFailure(description: "no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [FileHandle] = []
        for (fd, io) in [(Int32(0), standardInput), (1, standardOutput), (2, standardError)] {
            switch io {
            case let handle as FileHandle where handle === FileHandle.nullDevice:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case let handle as FileHandle:
                posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, fd)
            case let pipe as Pipe:
                let end = fd == 0 ? pipe.fileHandleForReading : pipe.fileHandleForWriting
                posix_spawn_file_actions_adddup2(&actions, end.fileDescriptor, fd)
                parentEnds.append(end)
            default:
                break
            }
        }
        try closeFrom(3, &actions)
        if let dir = currentDirectoryURL?.path {
            try addChdir(dir, &actions)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = environment ?? ProcessInfo.processInfo.environment
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw ToolFailure(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        lock.withLock { pid = child }
        // The child holds its own copies; the parent keeps only the ends it reads or writes.
        for end in parentEnds { try? end.close() }
    }

    /// False once the child has exited (and been reaped).
    public var isRunning: Bool {
        lock.withLock {
            guard pid > 0, status == nil else { return false }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
            return status == nil
        }
    }

    /// Blocks the calling thread until the child has exited (polling, so no thread waits in the kernel for it).
    public func waitUntilExit() {
        while isRunning { usleep(10_000) }
    }

    /// The exit code, or the signal that ended the child (see ``terminationReason``).
    public var terminationStatus: Int32 {
        guard let raw = lock.withLock({ status }) else { return -1 }
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }

    public var terminationReason: TerminationReason {
        guard let raw = lock.withLock({ status }) else { return .exit }
        return raw & 0x7f == 0 ? .exit : .uncaughtSignal
    }

    public func terminate() { signal(SIGTERM) }
    public func interrupt() { signal(SIGINT) }

    /// Sends `signal` unless the child was already reaped (its pid may then belong to another process).
    public func signal(_ signal: Int32) {
        lock.withLock {
            if pid > 0 && status == nil { kill(pid, signal) }
        }
    }

    /// Sends `signal` to the child's whole process group (what it started too: a browser a driver script
    /// launched), or to the child alone when it shares this process's group.
    public func signalGroup(_ signal: Int32) {
        lock.withLock {
            if pid > 0 && status == nil { kill(ownProcessGroup ? -pid : pid, signal) }
        }
    }

    /// A child still running when its owner lets go is killed with everything it started, and reaped.
    deinit {
        guard pid > 0, status == nil else { return }
        kill(ownProcessGroup ? -pid : pid, SIGKILL)
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
    }
}

/// A glibc extension that Swift's Glibc module does not show (it is declared only under `_GNU_SOURCE`).
private func glibcExtension<F>(_ name: String, as type: F.Type) throws -> F {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
        throw ToolFailure(description: "this glibc has no \(name) (needs 2.34)")
    }
    return unsafeBitCast(symbol, to: type)
}

/// `posix_spawn_file_actions_addclosefrom_np`: every descriptor from `lowest` up is closed in the child.
func closeFrom(_ lowest: Int32, _ actions: inout posix_spawn_file_actions_t) throws {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    let rc = try glibcExtension("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self)(&actions, lowest)
    guard rc == 0 else { throw ToolFailure(description: "addclosefrom: \(String(cString: strerror(rc)))") }
}

/// `posix_spawn_file_actions_addchdir_np`: the child starts in `directory`.
private func addChdir(_ directory: String, _ actions: inout posix_spawn_file_actions_t) throws {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    let rc = try glibcExtension("posix_spawn_file_actions_addchdir_np", as: AddChdir.self)(&actions, directory)
    guard rc == 0 else { throw ToolFailure(description: "chdir \(directory): \(String(cString: strerror(rc)))") }
}
