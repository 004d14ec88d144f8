import Foundation
import GRDB
import Logging
public import WatchFolder

/// Runs `body` with the job store of `config`: the embedded SQLite store in `[state] path`, or the cluster's
/// PostgreSQL store (`[state] database_url`), closed when `body` returns. Same database as the running daemons.
func withStore<T>(_ config: Config, _ body: (any JobStore) async throws -> T) async throws -> T {
    guard let url = config.state.postgresURL else { return try await body(try openSQLiteStore(config)) }
    let store = try await openPostgresStore(url, config)
    defer { store.close() }
    return try await body(store)
}

/// Runs `body` with the webhook queue of `config`'s job store (either backend), closed when `body` returns.
func withWebhookQueue<T>(_ config: Config, _ body: (any WebhookDeliveries) async throws -> T) async throws -> T {
    guard let url = config.state.postgresURL else {
        let queue: WebhookQueue
        do { queue = try WebhookQueue(store: openSQLiteStore(config)) } catch let error as DatabaseError {
            throw CLIFailure.work("cannot open the job store \(config.state.databaseURL.path): \(error)")
        }
        return try await body(queue)
    }
    let store = try await openPostgresStore(url, config)
    defer { store.close() }
    return try await body(PostgresWebhookQueue(store: store, node: config.state.node, holdSeconds: 0))
}

/// The cluster's store at `url`, or one line saying why not.
private func openPostgresStore(_ url: String, _ config: Config) async throws -> PostgresJobStore {
    do {
        // The CLI says what went wrong in its one line; the pool's own retries are not the user's business.
        return try await PostgresJobStore(url: url, password: config.state.databasePassword,
                                           logger: Logger(label: "watchfolder.store") { _ in SwiftLogNoOpLogHandler() },
                                           startTimeout: .seconds(10))
    } catch let error as StoreError {
        throw CLIFailure.work(error.description)
    } catch let error as PostgresStoreError {
        throw CLIFailure.work(error.description)  // names the store, without its password
    } catch {
        throw CLIFailure.work("cannot open the job store \(Config.State.masked(url)): \(error)")
    }
}

/// The embedded store in `[state] path`.
func openSQLiteStore(_ config: Config) throws -> SQLiteJobStore {
    do { return try SQLiteJobStore(url: config.state.databaseURL) } catch let error as StoreError {
        throw CLIFailure.work(error.description)  // a newer schema: says which store and what to do
    } catch {
        throw CLIFailure.work("cannot open the job store \(config.state.databaseURL.path): \(error)")
    }
}
