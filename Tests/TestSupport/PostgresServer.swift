public import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL 15 cluster for the tests of this process: `initdb` into a temporary folder, `pg_ctl start`
/// on a free loopback port (trust authentication, 127.0.0.1 only), one database per test (``makeDatabase()``), so
/// tests run in parallel. Started on first use (``shared()``), stopped and removed when the process exits (`atexit`),
/// or by a watchdog shell a second after it was killed.
///
/// - Important: PostgreSQL refuses to run as root, and the tests run as root: the cluster runs as `nobody` (through
///   `runuser`), in folders owned by it.
public final class PostgresServer: Sendable {
    /// Where Debian's `postgresql-15` puts its programs.
    public static let bin = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin")

    public let port: Int
    /// The cluster's folder (data, sockets, log): removed when the process exits.
    public let root: URL

    private static let started = Mutex<Task<PostgresServer, any Error>?>(nil)

    private init(port: Int, root: URL) {
        self.port = port
        self.root = root
    }

    /// The process's cluster, started on first use.
    /// - Throws: ``ToolFailure`` when PostgreSQL is not installed (`make setup-test`) or does not start.
    public static func shared() async throws -> PostgresServer {
        let task = started.withLock { task in
            if let task { return task }
            let new = Task { try await offPool { try start() } }
            task = new
            return new
        }
        return try await task.value
    }

    /// A new empty database owned by `postgres`, for one test.
    /// - Returns: Its URL, `postgresql://postgres@127.0.0.1:PORT/NAME?sslmode=disable`.
    public func makeDatabase() async throws -> String {
        let name = "wf_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let result = try await runToCompletion(Self.bin.appendingPathComponent("createdb"),
                                               ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", name], timeout: 60)
        guard result.status == 0 else {
            throw ToolFailure(description: "createdb \(name) on port \(port): \(result.stderr)")
        }
        return "postgresql://postgres@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// A cluster of its own, for a test that stops and starts its server (``stop()``, ``start()``); removed like the
    /// shared one.
    public static func makePrivate() async throws -> PostgresServer {
        try await offPool { try start() }
    }

    /// Stops the server (`pg_ctl stop -m fast`: clients are disconnected); ``start()`` starts it again on its port.
    public func stop() async throws {
        let result = try await offPool { [root] in
            try Self.runAsOwner(Self.bin.appendingPathComponent("pg_ctl"), ["-D", root.path + "/data", "-m", "fast", "-w", "stop"], in: root)
        }
        guard result.status == 0 else { throw ToolFailure(description: "pg_ctl stop: \(result.stdout)\(result.stderr)") }
    }

    /// Starts the server again after ``stop()``, on the same port, with the same data.
    public func start() async throws {
        let result = try await offPool { [root, port] in try Self.pgCtlStart(root: root, port: port) }
        guard result.status == 0 else { throw ToolFailure(description: "pg_ctl start (port \(port)): \(result.stdout)\(result.stderr)") }
    }

    /// Stops the server at once and removes its folder (a private cluster, at the end of its test).
    public func destroy() async {
        _ = try? await offPool { [root] in
            try Self.runAsOwner(Self.bin.appendingPathComponent("pg_ctl"), ["-D", root.path + "/data", "-m", "immediate", "-w", "stop"], in: root)
        }
        try? FileManager.default.removeItem(at: root)
        Self.running.withLock { $0.removeAll { $0 == root.path } }
    }

    private static func pgCtlStart(root: URL, port: Int) throws -> ProcessResult {
        let options = "-p \(port) -k \(root.path)/sockets -c listen_addresses=127.0.0.1 -c fsync=off"
            + " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        return try runAsOwner(bin.appendingPathComponent("pg_ctl"), ["-D", root.appendingPathComponent("data").path,
                                                                     "-l", root.appendingPathComponent("log").path, "-w",
                                                                     "-t", "60", "-o", options, "start"], in: root)
    }

    /// The folders of the clusters to stop at exit (read by a C callback, which captures nothing).
    private static let running = Mutex<[String]>([])

    private static func start() throws -> PostgresServer {
        let initdb = bin.appendingPathComponent("initdb")
        guard FileManager.default.isExecutableFile(atPath: initdb.path) else {
            throw ToolFailure(description: "\(initdb.path) is missing: install postgresql (make setup-test)")
        }
        let root = URL(fileURLWithPath: "/tmp/wf-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sockets"), withIntermediateDirectories: true)
        if getuid() == 0 {
            for path in [root.path, root.appendingPathComponent("sockets").path] {
                guard chown(path, 65534, 65534) == 0 else {
                    throw ToolFailure(description: "chown nobody \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
        let data = root.appendingPathComponent("data").path
        let setup = try runAsOwner(initdb, ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                                            "--no-locale"], in: root)
        guard setup.status == 0 else {
            throw ToolFailure(description: "initdb \(data): \(setup.stdout)\(setup.stderr)")
        }
        let port = try freePort()
        let start = try pgCtlStart(root: root, port: port)
        guard start.status == 0 else {
            let log = (try? String(contentsOf: root.appendingPathComponent("log"), encoding: .utf8)) ?? ""
            throw ToolFailure(description: "pg_ctl start (port \(port)): \(start.stdout)\(start.stderr)\(log)")
        }
        let first = running.withLock { roots in
            roots.append(root.path)
            return roots.count == 1
        }
        try watch(root: root)
        if first {
            atexit {
                for root in PostgresServer.running.withLock({ $0 }) {
                    _ = try? PostgresServer.runAsOwner(PostgresServer.bin.appendingPathComponent("pg_ctl"),
                                                       ["-D", root + "/data", "-m", "immediate", "-w", "stop"],
                                                       in: URL(fileURLWithPath: root))
                    try? FileManager.default.removeItem(atPath: root)
                }
            }
        }
        return PostgresServer(port: port, root: root)
    }

    /// The watchdogs of the clusters (kept for the life of the process: their owner's `deinit` would kill them).
    private static let watchdogs = Mutex<[ChildProcess]>([])

    /// Starts a shell, in a process group of its own, that stops and removes the cluster once this process has ended
    /// however it ended: `atexit` does not run when the test process is killed (`make test`'s `timeout`, a crash).
    private static func watch(root: URL) throws {
        let owner = getuid() == 0 ? "runuser -u nobody -- " : ""
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            [ -d '\(root.path)/data' ] && \(owner)'\(bin.path)/pg_ctl' -D '\(root.path)/data' -m immediate -w stop
            rm -rf '\(root.path)'
            """
        let shell = ChildProcess()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script]
        shell.currentDirectoryURL = URL(fileURLWithPath: "/")
        // Nothing inherited: a runner reading this process's output (make) must not wait for the watchdog too.
        shell.standardInput = FileHandle.nullDevice
        shell.standardOutput = FileHandle.nullDevice
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        watchdogs.withLock { $0.append(shell) }
    }

    /// Runs a PostgreSQL program as the cluster's owner: `nobody` when this process is root, else this user.
    private static func runAsOwner(_ program: URL, _ arguments: [String], in folder: URL) throws -> ProcessResult {
        if getuid() == 0 {
            return try runToCompletion(try installedTool("runuser"), ["-u", "nobody", "--", program.path] + arguments,
                                       currentDirectory: folder, timeout: 120)
        }
        return try runToCompletion(program, arguments, currentDirectory: folder, timeout: 120)
    }
}
