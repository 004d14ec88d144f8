import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
public import ServiceLifecycle
import NIOCore
public import WatchFolder
#if canImport(Glibc)
import Glibc
#endif

/// The status server: JSON API, Server-Sent Events, Prometheus `/metrics` and the embedded dashboard, on
/// `[http] listen`. A `Service`: list it first in the daemon's `ServiceGroup` so it stops last.
///
/// It holds under load and keeps browsers' other tabs out:
/// - at most `[http] max_connections` connections (``ConnectionGate``: an idle one makes room for a new one,
///   else the new one is closed at accept), never more than the open-file limit leaves after
///   ``reservedDescriptors`` for jobs, the database and the inbox;
/// - a connection without a request in progress is closed after ``idleTimeout``, a request that is not read
///   whole within ``headerTimeout`` of its first byte closes its connection;
/// - at most `[http] max_event_streams` event streams;
/// - without a token, ``SameOriginMiddleware`` checks `Host` and `Origin`.
///
/// - Important: It refuses to start on a non-loopback address without `[http] token` (the config loader
///   refuses that too; this is the last line).
public struct StatusServer: Service {
    let config: Config
    let store: any JobStore
    let webhookBacklog: @Sendable () async throws -> Int
    let logger: Logger
    let onRunning: @Sendable (Int) async -> Void
    /// The connection cap in force (``connectionLimit(configured:descriptors:)``).
    let gate: ConnectionGate
    /// How often an idle event stream gets a `: keep-alive` comment.
    var keepAlive: Duration = .seconds(15)
    /// A connection without a request in progress is closed after this long without one.
    var idleTimeout: Duration = .seconds(30)
    /// A request (head, and body where a route takes one) must be read within this long of its first byte.
    var headerTimeout: Duration = .seconds(10)
    /// Descriptors the cap leaves to the rest of the daemon: sources and segments of running jobs, the database,
    /// inotify, webhook and S3 connections.
    static let reservedDescriptors = 256

    /// - Parameters:
    ///   - store: The daemon's store: the server reads it through ``JobStore`` only, and follows its
    ///     ``JobStore/changes()`` for live updates.
    ///   - webhookBacklog: The number of webhook deliveries waiting (`watchfolder_webhook_pending`), read at each
    ///     scrape of `/metrics` (`WebhookQueue.pendingCount()` for the SQLite store).
    ///   - onRunning: Called with the bound port once the server listens (port 0 picks a free one).
    public init(config: Config, store: any JobStore, webhookBacklog: @escaping @Sendable () async throws -> Int,
                logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.config = config
        self.store = store
        self.webhookBacklog = webhookBacklog
        self.logger = logger
        self.onRunning = onRunning
        PrometheusBackend.bootstrap()
        gate = ConnectionGate(limit: Self.connectionLimit(configured: config.http.maxConnections, descriptors: Self.openFileLimit()))
    }

    /// - Throws: ``StatusServerError`` when the address is reachable from other machines without a token, or
    ///   when it cannot be bound (port in use).
    public func run() async throws {
        try Self.check(config.http)
        if gate.limit < config.http.maxConnections {
            logger.warning("status server: at most \(gate.limit) connections, not max_connections = \(config.http.maxConnections): the open-file limit is \(Self.openFileLimit()) (raise LimitNOFILE)")
        }
        do {
            try await application(keepAlive: keepAlive).run()
        } catch let error as IOError {
            throw StatusServerError(message: "status server: cannot listen on \(config.http.listen): \(error.description)")
        }
    }

    /// The hummingbird application.
    public func application(keepAlive: Duration = .seconds(15)) -> some ApplicationProtocol {
        let routes = StatusRoutes(store: store, webhookBacklog: webhookBacklog, settings: SchedulerSettings(config: config),
                                  auth: StatusAuth(token: config.http.token.flatMap { $0.isEmpty ? nil : $0 },
                                                   metricsToken: config.http.metricsToken),
                                  events: EventStream(store: store, keepAlive: keepAlive, maxStreams: config.http.maxEventStreams),
                                  listenHost: config.http.host, logger: logger)
        let gate = self.gate, idle = TimeAmount(idleTimeout), header = TimeAmount(headerTimeout)
        let onRunning = self.onRunning
        let logger = self.logger
        let listen = config.http.listen
        return Application(
            router: routes.build(),
            server: HTTPServerBuilder { responder in
                GuardedHTTP1Channel(responder: responder, gate: gate, idleTimeout: idle, headerTimeout: header)
            },
            configuration: .init(address: .hostname(config.http.host, port: config.http.port), serverName: "watchfolder"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("status server listening", metadata: ["wf.http.listen": "\(listen)", "wf.http.port": "\(port)"])
                await onRunning(port)
            },
            logger: logger
        )
    }

    /// `configured`, or less when the open-file limit (`descriptors`) would not leave ``reservedDescriptors``.
    static func connectionLimit(configured: Int, descriptors: Int) -> Int {
        max(1, min(configured, descriptors - reservedDescriptors))
    }

    /// The soft `RLIMIT_NOFILE` (systemd's `LimitNOFILE`); `Int.max` when unlimited or unknown.
    static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return Int.max }
        return Int(clamping: limit.rlim_cur)
    }

    /// Refuses a non-loopback listen address without a token.
    public static func check(_ http: Config.HTTP) throws {
        let loopback = http.host == "localhost" || http.host == "::1" || http.host.hasPrefix("127.")
        if !loopback && (http.token ?? "").isEmpty {
            throw StatusServerError(message: "[http] listen = \"\(http.listen)\" is reachable from other machines: set 'token' in [http] (or WATCHFOLDER_HTTP_TOKEN), or listen on 127.0.0.1")
        }
    }
}
