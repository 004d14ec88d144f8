import Foundation
import Logging
public import WatchFolder

/// Runs `body` with the job store of `config`: the embedded SQLite store in `[state] path`, or the cluster's
/// PostgreSQL store (`[state] database_url`), closed when `body` returns. Same database as the running daemons.
func withStore<T>(_ config: Config, _ body: (any JobStore) async throws -> T) async throws -> T {
    guard let url = config.state.postgresURL else { return try await body(try openSQLiteStore(config)) }
    let store: PostgresJobStore
    do {
        // The CLI says what went wrong in its one line; the pool's own retries are not the user's business.
        store = try await PostgresJobStore(url: url, password: config.state.databasePassword,
                                           logger: Logger(label: "watchfolder.store") { _ in SwiftLogNoOpLogHandler() },
                                           startTimeout: .seconds(10))
    } catch let error as StoreError {
        throw CLIFailure.work(error.description)
    } catch let error as PostgresStoreError {
        throw CLIFailure.work(error.description)  // names the store, without its password
    } catch {
        throw CLIFailure.work("cannot open the job store \(Config.State.masked(url)): \(error)")
    }
    defer { store.close() }
    return try await body(store)
}

/// The embedded store in `[state] path` (the CLI's webhook commands and the daemon use it alone for now).
func openSQLiteStore(_ config: Config) throws -> SQLiteJobStore {
    do { return try SQLiteJobStore(url: config.state.databaseURL) } catch let error as StoreError {
        throw CLIFailure.work(error.description)  // a newer schema: says which store and what to do
    } catch {
        throw CLIFailure.work("cannot open the job store \(config.state.databaseURL.path): \(error)")
    }
}

/// Refuses a command that does not work on the PostgreSQL store yet, naming it.
func requireSQLiteStore(_ config: Config, command: String) throws {
    if config.state.postgresURL != nil {
        throw CLIFailure.work("'watchfolder \(command)' cannot use a PostgreSQL job store ([state] database_url) in this version; the store commands (status, jobs, nodes, retry, cancel) can")
    }
}
