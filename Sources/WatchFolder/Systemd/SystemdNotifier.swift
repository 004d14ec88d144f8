#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Foundation

/// Speaks systemd's notify protocol (`sd_notify(3)`) without libsystemd: one datagram per state change, sent to
/// the `AF_UNIX` socket named by `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
///
/// Outside systemd (no `NOTIFY_SOCKET`) every call does nothing and returns `false`, so the daemon calls it
/// unconditionally. The unit that uses it is `Type=notify` with `WatchdogSec=`:
/// ```swift
/// try SystemdNotifier.ready()                       // after start-up, once the inbox is watched
/// try SystemdNotifier.reloading()                   // SIGHUP: re-reading the config, then ready() again
/// try SystemdNotifier.stopping()                    // when graceful shutdown begins
/// SystemdService()                                 // last in the ServiceGroup: READY, WATCHDOG, STOPPING
/// ```
public enum SystemdNotifier {
    /// `READY=1`: start-up is finished; systemd now reports the unit as active.
    /// - Returns: Whether a notification was sent (`false` outside systemd).
    /// - Throws: ``SystemdError`` when the socket exists but the datagram cannot be sent.
    @discardableResult
    public static func ready(status: String? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        try notify(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []), environment: environment)
    }

    /// `STOPPING=1`: graceful shutdown has begun.
    @discardableResult
    public static func stopping(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        try notify(["STOPPING=1"], environment: environment)
    }

    /// `RELOADING=1` with `MONOTONIC_USEC` (`CLOCK_MONOTONIC` now, as `sd_notify` and `Type=notify-reload`
    /// want it): the config is being re-read. Send ``ready(status:environment:)`` when done.
    @discardableResult
    public static func reloading(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        return try notify(["RELOADING=1", "MONOTONIC_USEC=\(usec)"], environment: environment)
    }

    /// `WATCHDOG=1`: the main loop is alive. Send at least every ``watchdogInterval(environment:)`` / 2.
    @discardableResult
    public static func ping(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        try notify(["WATCHDOG=1"], environment: environment)
    }

    /// `STATUS=…`: a one-line status shown by `systemctl status`.
    @discardableResult
    public static func status(_ text: String,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        try notify(["STATUS=\(text)"], environment: environment)
    }

    /// The watchdog timeout systemd expects pings within (`WATCHDOG_USEC`), or nil when the watchdog is off,
    /// the value is not a positive integer, or `WATCHDOG_PID` names another process (as `sd_watchdog_enabled`).
    public static func watchdogInterval(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        pid: Int32 = getpid()
    ) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty, Int32(owner) != pid { return nil }
        return .microseconds(usec)
    }

    /// Sends `assignments` (`KEY=value`, one per line) as one datagram to `NOTIFY_SOCKET`.
    /// - Returns: `false` when `NOTIFY_SOCKET` is unset or empty (not started by systemd).
    /// - Throws: ``SystemdError`` naming the failing call (`socket`, `sendto`) and its `errno` text, or an
    ///   invalid socket address.
    @discardableResult
    public static func notify(_ assignments: [String],
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        guard let socketName = environment["NOTIFY_SOCKET"], !socketName.isEmpty else { return false }
        let message = assignments.joined(separator: "\n")
        try send(Array(message.utf8), to: socketName)
        return true
    }

    private static func send(_ bytes: [UInt8], to socketName: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketName.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        guard abstract || path.first == UInt8(ascii: "/") else {
            throw SystemdError(call: "NOTIFY_SOCKET", errno: EAFNOSUPPORT,
                               detail: "'\(socketName)' is neither an absolute path nor an @abstract name")
        }
        if abstract { path[0] = 0 }  // "@name" means "\0name" in the abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else {
            throw SystemdError(call: "NOTIFY_SOCKET", errno: ENAMETOOLONG, detail: socketName)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        // Abstract names are exactly as long as given; paths carry their terminating NUL.
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1)

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemdError(call: "socket", errno: errno, detail: socketName) }
        defer { close(fd) }
        while true {
            let sent = bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0, socklen_t(length))
                    }
                }
            }
            if sent >= 0 { return }
            let code = errno
            if code == EINTR { continue }
            throw SystemdError(call: "sendto", errno: code, detail: socketName)
        }
    }
}
