import Foundation
import Logging

/// The daemon's job store and webhook queue, on the backend `[state]` names: the embedded SQLite store in
/// `[state] path` (watched, so that the CLI's commits wake the daemon as its own do), or the cluster's PostgreSQL
/// store at `[state] database_url` (whose `LISTEN`/`NOTIFY` already wakes every node on any node's commit).
struct DaemonStore {
    let store: any JobStore
    let webhooks: any WebhookDeliveries
    private let watch: DatabaseWriteWatch?
    private let closeStore: @Sendable () throws -> Void

    /// Opens the store (migrating it), or throws one line saying why it cannot.
    /// - Parameter startTimeout: How long a PostgreSQL store may take to answer at start.
    static func open(_ config: Config, logger: Logger, startTimeout: Duration = .seconds(30)) async throws -> DaemonStore {
        if let url = config.state.postgresURL {
            // postgres-nio says every failed connection attempt: the daemon says an unreachable store once (the
            // heartbeat, intake, /api/health), postgres-nio's own lines only at `debug`.
            var storeLogger = logger
            if config.log.loggerLevel > .debug { storeLogger.logLevel = .error }
            // A node frozen in the middle of a transaction (SIGSTOP, a VM paused) would hold its locks, the event
            // lock among them, and stall every other node's writes until it wakes: the server ends such a session
            // after a lease (at least 10 s); its transaction rolls back, and its jobs are taken over as a dead node's.
            // Not less: a starved machine can pause a live node for seconds between two statements (5 s ended
            // sessions on a 2-core machine running `make test`).
            let store = try await PostgresJobStore(url: url, password: config.state.databasePassword, logger: storeLogger,
                                                   startTimeout: startTimeout,
                                                   idleInTransactionTimeout: .seconds(max(10, config.state.leaseSeconds)))
            // An endpoint's sender holds it longer than one attempt can take.
            let hold = max(config.state.leaseSeconds, Double(WebhookSender.timeoutSeconds) + 5)
            return DaemonStore(store: store,
                               webhooks: PostgresWebhookQueue(store: store, node: config.state.node, holdSeconds: hold),
                               watch: nil, closeStore: { store.close() })
        }
        let store = try SQLiteJobStore(url: config.state.databaseURL)
        // The CLI's commits (cancel, retry, webhooks resend) wake the scheduler and the webhook queues as the
        // daemon's own do: nothing here polls the store.
        let watch = try DatabaseWriteWatch(database: config.state.databaseURL) { store.commits.tick() }
        do {
            return DaemonStore(store: store, webhooks: try WebhookQueue(store: store), watch: watch,
                               closeStore: { try store.close() })
        } catch {
            watch.cancel()
            throw error
        }
    }

    func close() throws {
        watch?.cancel()
        try closeStore()
    }
}
