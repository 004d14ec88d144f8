import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The store's hold on PostgreSQL, the only code that talks to postgres-nio: a connection pool (`PostgresClient`) run
/// by a task this object owns, one pooled connection that LISTENs on ``channel`` and ticks ``ticks``, and the count of
/// round trips to the server. Its tasks end with ``close()`` (or when it is released).
final class PostgresSession: Sendable {
    /// The channel every write transaction notifies and the store listens on.
    static let channel = "watchfolder_changes"
    /// The advisory lock of the transactions that record events ("wfevents").
    static let eventLock: Int64 = 0x7766_6576_656E_7473

    let location: PostgresLocation
    let logger: Logger
    /// Ticks after commits that wrote jobs, events or effects, by any node (through LISTEN/NOTIFY).
    let ticks = CommitTicks()
    let statements = StatementCounter()
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let listener = Mutex<Task<Void, Never>?>(nil)

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
        let client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
    }

    deinit { close() }

    /// Stops listening and closes every connection (the pool's task ends).
    func close() {
        listener.withLock { $0 }?.cancel()
        runner.cancel()
    }

    /// Starts the LISTEN connection and returns once it listens (or after `timeout`). A connection lost is opened
    /// again a second later, with a tick, since commits made meanwhile were not heard.
    func listen(timeout: Duration = .seconds(10)) async {
        let started = ticks.subscribe()
        defer { started.cancel() }
        let client = client, ticks = ticks, logger = logger, place = location.redacted
        let task = Task {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            ticks.tick()  // listening: commits from now on are heard
                            for try await _ in notifications { ticks.tick() }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.debug("the job store's LISTEN connection ended; opening it again",
                                 metadata: ["wf.store": "\(place)", "wf.error": "\(Self.describe(error))"])
                }
                try? await Task.sleep(for: .seconds(1))
                ticks.tick()
            }
        }
        listener.withLock { $0 = task }
        await started.wait(until: .now + timeout)
    }

    /// Runs `body` on one connection in one transaction (`BEGIN` ... `COMMIT`, `ROLLBACK` when it throws), with
    /// `NOTIFY` before the commit when `body` marked it as changing something the store's waiters care about.
    /// - Throws: what `body` throws, or ``PostgresStoreError`` saying `what` failed where.
    ///
    /// With `recordsEvents`, the transaction first takes ``eventLock``: events are then numbered in commit order, as
    /// with SQLite's single writer, so a reader of ``JobStore/events(after:limit:)`` never passes an id that a
    /// transaction still open would commit later. (Taken first, always, so it cannot deadlock with row locks.)
    func write<T: Sendable>(_ what: String, isolation: String? = nil, recordsEvents: Bool = false,
                            deadline: Duration? = operationDeadline,
                            _ body: @escaping @Sendable (PostgresTransaction) async throws -> T) async throws -> T {
        try await connection(what, deadline: deadline) { connection in
            let transaction = PostgresTransaction(connection: connection, session: self)
            try await transaction.run(isolation.map { PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \($0)") } ?? "BEGIN")
            do {
                if recordsEvents { try await transaction.run("SELECT pg_advisory_xact_lock(\(Self.eventLock))") }
                let result = try await body(transaction)
                if transaction.notifies { try await transaction.run("SELECT pg_notify('\(unescaped: Self.channel)', '')") }
                try await transaction.run("COMMIT")
                return result
            } catch {
                _ = try? await transaction.run("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs the reads of `body` in one read-only snapshot (`REPEATABLE READ`), as SQLite's readers see one.
    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresTransaction) async throws -> T) async throws -> T {
        try await write(what, isolation: "REPEATABLE READ READ ONLY", body)
    }

    /// One statement on a pooled connection, outside any transaction.
    func rows(_ what: String, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection(what, deadline: Self.operationDeadline) { connection in
            try await PostgresTransaction(connection: connection, session: self).rows(query)
        }
    }

    /// How long one store operation may take, waiting for a connection included, before it fails. Every one is a
    /// few short statements; but postgres-nio waits forever for the answer to a statement sent on a connection the
    /// server has closed (``PostgresTransaction/rows(_:)`` refuses a connection already closed; one that closes with
    /// the statement in flight is left to this deadline): it is given up, and its caller retries. Generous, because a
    /// starved machine is slow, not stuck.
    static let operationDeadline = Duration.seconds(120)

    private func connection<T: Sendable>(_ what: String, deadline: Duration?,
                                         _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            let client = client
            let work: @Sendable () async throws -> T = { try await client.withConnection { connection in try await body(connection) } }
            guard let deadline else { return try await work() }
            let place = location.redacted
            return try await Self.abandoning(after: deadline, work) {
                PostgresStoreError("the job store \(place): \(what): no answer within \(deadline)")
            }
        } catch let error as StoreError {
            throw error
        } catch let error as PostgresStoreError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            // PSQLError (the server's or the connection's) and the pool's own errors (ConnectionPoolError).
            throw PostgresStoreError("the job store \(location.redacted): \(what): \(Self.describe(error))")
        }
    }

    /// Runs `work` in a task of its own and returns its result, or throws `timedOut()` once `timeout` has passed (the
    /// task is cancelled and left to end by itself), or `CancellationError` at once when the caller is cancelled.
    static func abandoning<T: Sendable>(after timeout: Duration, _ work: @escaping @Sendable () async throws -> T,
                                        timedOut: @escaping @Sendable () -> any Error) async throws -> T {
        let task = Task { try await work() }
        let waiting = ResumeOnce<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                waiting.set(continuation)
                let timer = Task {
                    try await Task.sleep(for: timeout)
                    task.cancel()
                    waiting.take()?.resume(throwing: timedOut())
                }
                Task {
                    let result = await task.result
                    timer.cancel()
                    waiting.take()?.resume(with: result)
                }
            }
        } onCancel: {
            task.cancel()
            waiting.take()?.resume(throwing: CancellationError())
        }
    }

    /// The server's message, or what went wrong on the way to it (postgres-nio's own description says neither).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + code
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

/// One connection lent to a store operation (in a transaction, or not): the statements it runs are counted.
final class PostgresTransaction: Sendable {
    private let connection: PostgresConnection
    private let session: PostgresSession
    private let notify = Atomic<Bool>(false)

    init(connection: PostgresConnection, session: PostgresSession) {
        self.connection = connection
        self.session = session
    }

    /// Marks the transaction as one the store's waiters must hear of (`NOTIFY` before the commit).
    func notifyOnCommit() { notify.store(true, ordering: .relaxed) }
    var notifies: Bool { notify.load(ordering: .relaxed) }

    /// Runs `query` and returns its rows.
    /// - Throws: ``PostgresStoreError`` at once when the server has closed the connection (it ended the session, or
    ///   stopped): postgres-nio would send the query on it and wait for an answer forever.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        guard !connection.isClosed else {
            throw PostgresStoreError("the job store \(session.location.redacted): the server closed the connection")
        }
        session.statements.add()
        return try await connection.query(query, logger: session.logger).collect()
    }

    /// Runs `query`, ignoring any rows.
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> Int {
        try await rows(query).count
    }

    /// The first row's first column, decoded as `T` (nil when there is no row or it is NULL).
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        guard let row = try await rows(query).first, let cell = row.first, cell.bytes != nil else { return nil }
        return try cell.decode(T.self)
    }
}

/// A continuation resumed by whichever comes first (``PostgresSession/abandoning(after:_:timedOut:)``).
private final class ResumeOnce<T: Sendable>: Sendable {
    private let slot = Mutex<CheckedContinuation<T, any Error>?>(nil)
    func set(_ continuation: CheckedContinuation<T, any Error>) { slot.withLock { $0 = continuation } }
    func take() -> CheckedContinuation<T, any Error>? { slot.withLock { $0.take() } }
}
