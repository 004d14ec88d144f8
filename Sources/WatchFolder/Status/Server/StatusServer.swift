import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle
import NIOCore
public import WatchFolder

/// The status server: JSON API, Server-Sent Events, Prometheus `/metrics` and the embedded dashboard, on
/// `[http] listen`. A `Service`: list it first in the daemon's `ServiceGroup` so it stops last.
///
/// - Important: It refuses to start on a non-loopback address without `[http] token` (the config loader
///   refuses that too; this is the last line).
public struct StatusServer: Service {
    let config: Config
    let store: SQLiteJobStore
    let logger: Logger
    let onRunning: @Sendable (Int) async -> Void
    /// How often an idle event stream gets a `: keep-alive` comment.
    var keepAlive: Duration = .seconds(15)

    /// - Parameters:
    ///   - store: The daemon's store; the server reads its `DatabasePool` and observes it for live updates.
    ///   - onRunning: Called with the bound port once the server listens (port 0 picks a free one).
    public init(config: Config, store: SQLiteJobStore, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.config = config
        self.store = store
        self.logger = logger
        self.onRunning = onRunning
    }

    /// - Throws: ``StatusServerError`` when the address is reachable from other machines without a token, or
    ///   when it cannot be bound (port in use).
    public func run() async throws {
        try Self.check(config.http)
        do {
            try await application(keepAlive: keepAlive).run()
        } catch let error as IOError {
            throw StatusServerError(message: "status server: cannot listen on \(config.http.listen): \(error.description)")
        }
    }

    /// The hummingbird application (tests drive it with `HummingbirdTesting`).
    public func application(keepAlive: Duration = .seconds(15)) -> some ApplicationProtocol {
        let reader = StatusReader(store: store, inbox: config.inbox.path)
        let routes = StatusRoutes(store: store, reader: reader, settings: SchedulerSettings(config: config),
                                  auth: StatusAuth(token: config.http.token.flatMap { $0.isEmpty ? nil : $0 },
                                                   metricsToken: config.http.metricsToken),
                                  events: EventStream(reader: reader, keepAlive: keepAlive), logger: logger)
        let onRunning = self.onRunning
        let logger = self.logger
        let listen = config.http.listen
        return Application(
            router: routes.build(),
            configuration: .init(address: .hostname(config.http.host, port: config.http.port), serverName: "watchfolder"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("status server listening", metadata: ["wf.http.listen": "\(listen)", "wf.http.port": "\(port)"])
                await onRunning(port)
            },
            logger: logger
        )
    }

    /// Refuses a non-loopback listen address without a token.
    public static func check(_ http: Config.HTTP) throws {
        let loopback = http.host == "localhost" || http.host == "::1" || http.host.hasPrefix("127.")
        if !loopback && (http.token ?? "").isEmpty {
            throw StatusServerError(message: "[http] listen = \"\(http.listen)\" is reachable from other machines: set 'token' in [http] (or WATCHFOLDER_HTTP_TOKEN), or listen on 127.0.0.1")
        }
    }
}
