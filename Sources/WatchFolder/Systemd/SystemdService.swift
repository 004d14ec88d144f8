public import Foundation
public import Logging
public import ServiceLifecycle

/// The daemon's side of `Type=notify`: sends `READY=1` when it starts, pings the watchdog (`WATCHDOG=1`) at
/// half of `WATCHDOG_USEC`, and sends `STOPPING=1` when graceful shutdown reaches it.
///
/// Put it **last** in the daemon's `ServiceGroup`: services start in order (so the others have started when it
/// sends `READY=1`) and stop in reverse order (so `STOPPING=1` goes out as soon as shutdown begins; systemd
/// disarms the watchdog while a unit stops, so draining jobs need no pings). It runs on the cooperative pool
/// like every other service: a starved or deadlocked runtime stops the pings and systemd restarts the unit.
/// Outside systemd (no `NOTIFY_SOCKET`) it only waits for shutdown.
///
/// ```swift
/// services: [.init(service: reloader), .init(service: scheduler), .init(service: intake),
///            .init(service: SystemdService(logger: logger))]
/// ```
public struct SystemdService: Service {
    let environment: [String: String]
    let status: String?
    let logger: Logger

    /// - Parameters:
    ///   - status: A `STATUS=` line sent with `READY=1` (shown by `systemctl status`).
    ///   - environment: Where `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` are read (the process's).
    public init(status: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                logger: Logger = Logger(label: "watchfolder.systemd")) {
        self.status = status
        self.environment = environment
        self.logger = logger
    }

    public func run() async throws {
        guard environment["NOTIFY_SOCKET"]?.isEmpty == false else {
            try? await gracefulShutdown()
            return
        }
        send { try SystemdNotifier.ready(status: status, environment: environment) }
        if let interval = SystemdNotifier.watchdogInterval(environment: environment) {
            let period = interval / 2
            logger.debug("systemd watchdog on", metadata: ["wf.watchdog.period": "\(period)"])
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                send { try SystemdNotifier.ping(environment: environment) }
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
                } catch {
                    break
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        send { try SystemdNotifier.stopping(environment: environment) }
    }

    /// A notification that cannot be sent is logged, never fatal: the daemon's work matters more.
    private func send(_ notify: () throws -> Bool) {
        do {
            _ = try notify()
        } catch {
            logger.warning("systemd notification failed", metadata: ["wf.error": "\(error)"])
        }
    }
}
