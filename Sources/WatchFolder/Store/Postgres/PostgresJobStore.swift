public import Foundation
public import Logging
import PostgresNIO

/// The job store shared by several nodes: PostgreSQL through postgres-nio's connection pool, with the semantics of
/// ``SQLiteJobStore`` (the reference). Every write is one transaction that records its events and file effects; a claim
/// takes the oldest due job with `FOR UPDATE SKIP LOCKED`, so nodes claiming at once never take the same one; every
/// write transaction that changed jobs, events or effects sends `NOTIFY watchfolder_changes`, which every store
/// LISTENs to, so ``commitWaiter()`` and ``changes()`` wake on any node's commits. The transactions that may record
/// an event take one advisory lock first, so event ids follow commit order (the webhook sender and the event stream,
/// which read ``events(after:limit:)``, never pass an event still to be committed): those writes are serialized
/// across nodes, as SQLite's are within one.
///
/// The store owns the pool's task (`PostgresClient.run()`) and its LISTEN connection: ``close()`` ends both.
public struct PostgresJobStore: JobStore {
    let session: PostgresSession

    /// Connects to the database at `url` (`postgresql://USER[:PASS]@HOST:PORT/DB?sslmode=disable|prefer|require`) and
    /// migrates it (once, however many nodes start at the same time).
    /// - Parameters:
    ///   - url: Where the store is; its password, if any, wins over `password`.
    ///   - password: The password when the URL has none (from a file or the environment, kept out of the config).
    ///   - logger: postgres-nio's background logs and the store's own (`debug` only).
    ///   - startTimeout: How long to wait for the server at start (the pool retries refused connections meanwhile).
    /// - Throws: ``PostgresStoreError`` when the URL is wrong or the server cannot be reached in `startTimeout` or
    ///   refuses the schema; ``StoreError`` `newerSchema` when a newer watchfolder migrated the database.
    ///   - idleInTransactionTimeout: How long the server lets one of the store's sessions sit idle inside a
    ///     transaction before it ends it (a node frozen mid-transaction holds the event lock and its row locks, and
    ///     would stall every other node's writes until it wakes); nil: the server's setting.
    public init(url: String, password: String? = nil, logger: Logger, startTimeout: Duration = .seconds(30),
                idleInTransactionTimeout: Duration? = nil) async throws {
        var parsed = try PostgresLocation(url: url, password: password)
        parsed.idleInTransactionTimeout = idleInTransactionTimeout
        let location = parsed
        let session = PostgresSession(location: location, logger: logger)
        self.session = session
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await Self.migrate(session) }
                group.addTask {
                    try await Task.sleep(for: startTimeout)
                    throw PostgresStoreError("the job store \(location.redacted): no answer within \(startTimeout) (is the server up, and the URL right?)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            session.close()
            throw error
        }
        await session.listen()
    }

    /// Stops listening and closes the store's connections. The store must not be used afterwards.
    public func close() {
        session.close()
    }

    /// The schema migrations applied to this store's database, in the order they were recorded.
    public func appliedMigrations() async throws -> [String] {
        try await session.rows("reading the applied migrations", "SELECT identifier FROM schema_migrations ORDER BY identifier")
            .map { try $0.decode(String.self) }
    }

    public func enqueue(_ files: [InboxFile]) async throws -> [Job] {
        guard !files.isEmpty else { return [] }
        return try await session.write("recording \(files.count) inbox files", recordsEvents: true) { db in
            var created: [Job] = []
            let now = Date()
            for file in files {
                // A job holds its file until the file has left the inbox: released, and its move carried out.
                let known = try PostgresRecords.jobs(try await db.rows("""
                    SELECT \(unescaped: PostgresRecords.jobColumns) FROM job
                    WHERE source_path = \(file.relativePath) AND (NOT released
                      OR EXISTS (SELECT 1 FROM effect WHERE effect.job_id = job.id AND effect.done_at IS NULL))
                    ORDER BY id FOR UPDATE
                    """))
                var job: Job
                switch Job.recording(file, known: known, now: now) {
                case .seen:
                    continue
                case let .follows(queued):
                    try await db.run(PostgresRecords.update(queued))
                    try await Self.record(file.sidecars, job: queued.id ?? 0, db)
                    db.notifyOnCommit()
                    continue
                case let .new(fresh):
                    job = fresh
                }
                // The unique fingerprint index: a row another node recorded meanwhile is not recorded again.
                guard let id = try await db.value("""
                    INSERT INTO job (source_path, device, inode, size, mtime_ns, state, attempts, progress, created_at,
                                     updated_at, cancel_requested, released, metadata)
                    VALUES (\(job.sourcePath), \(job.device), \(job.inode), \(job.size), \(job.mtimeNs), 'queued', 0, 0, \(now),
                            \(now), false, false, \(job.metadata))
                    ON CONFLICT (source_path, inode, size, mtime_ns) WHERE NOT released DO NOTHING
                    RETURNING id
                    """, as: Int64.self) else { continue }
                job.id = id
                try await Self.record(file.sidecars, job: id, db)
                try await db.run(PostgresRecords.insert(JobEvent.make(.queued, for: job, now: now)))
                db.notifyOnCommit()
                created.append(job)
            }
            return created
        }
    }

    public func claimNext(now: Date, node: NodeIdentity) async throws -> Job? {
        try await session.write("claiming the next job", recordsEvents: true) { db in
            let now = LeaseClock.stamp(now)  // the call may have waited for the store: a lease starts when it is written
            let token = Job.newLeaseToken()
            guard let row = try await db.rows("""
                UPDATE job SET state = 'running', attempts = attempts + 1, progress = 0, started_at = \(now),
                  finished_at = NULL, next_attempt_at = NULL, updated_at = \(now), node = \(node.name),
                  lease_token = \(token), lease_expires_at = \(now.addingTimeInterval(node.leaseSeconds))
                WHERE id = (
                  SELECT id FROM job
                  WHERE state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= \(now))
                    AND NOT EXISTS (SELECT 1 FROM effect WHERE effect.job_id = job.id AND effect.done_at IS NULL)
                  ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: PostgresRecords.jobColumns)
                """).first else { return nil }
            let job = try PostgresRecords.job(row)
            try await db.run(PostgresRecords.insert(JobEvent.make(.started, for: job, now: now)))
            db.notifyOnCommit()
            return job
        }
    }

    /// Job `id` as it is now, its row locked until the transaction ends.
    static func locked(_ id: Int64, _ db: PostgresTransaction) async throws -> Job? {
        try await db.rows("SELECT \(unescaped: PostgresRecords.jobColumns) FROM job WHERE id = \(id) FOR UPDATE")
            .first.map(PostgresRecords.job)
    }

    @discardableResult
    public func transition(_ id: Int64, _ change: JobTransition, lease: Int64?) async throws -> Job {
        try await session.write("changing job \(id)", recordsEvents: true) { db in
            guard var job = try await Self.locked(id, db) else { throw StoreError.noSuchJob(id) }
            if let lease, job.leaseToken != lease { throw StoreError.leaseLost(job) }
            let now = Date()
            let writes = try job.apply(change, now: now)
            if writes.forgetSidecars {
                try await db.run("DELETE FROM sidecar WHERE job_id = \(id) AND error IS NULL")
            }
            if let effect = writes.effect {
                try await db.run(PostgresRecords.insert(job.effectRow(effect, now: now)))
                for row in try await db.rows("SELECT * FROM sidecar WHERE job_id = \(id) ORDER BY name COLLATE \"C\"") {
                    guard let sidecarEffect = SQLiteJobStore.effect(effect, for: try PostgresRecords.sidecar(row), now: now)
                    else { continue }
                    try await db.run(PostgresRecords.insert(sidecarEffect))
                }
            }
            job.updatedAt = now
            try await db.run(PostgresRecords.update(job))
            if let event = writes.event {
                try await db.run(PostgresRecords.insert(JobEvent.make(event, for: job, now: now)))
            }
            db.notifyOnCommit()
            return job
        }
    }

    /// Replaces the sidecars recorded with job `id`.
    static func record(_ sidecars: [Sidecar], job id: Int64, _ db: PostgresTransaction) async throws {
        try await db.run("DELETE FROM sidecar WHERE job_id = \(id)")
        for var sidecar in sidecars {
            sidecar.jobId = id
            try await db.run(PostgresRecords.insert(sidecar))
        }
    }

    public func updateProgress(_ id: Int64, fraction: Double, speed: Double?, eta: Double?, lease: Int64?) async throws {
        try await session.write("recording the progress of job \(id)", recordsEvents: true) { db in
            guard var job = try await Self.locked(id, db), job.state == .running else { return }
            if let lease, job.leaseToken != lease { throw StoreError.leaseLost(job) }
            let clamped = min(max(fraction, 0), 1)
            let crossedStep = Int(clamped * 10) > Int(job.progress * 10)
            let now = Date()
            // A slow encode still reports every 30 s (when it moved), so receivers see it is alive.
            let lastReport = try await db.value("""
                SELECT MAX(created_at) FROM event WHERE job_id = \(id) AND type = 'job.progress'
                """, as: Date.self) ?? job.startedAt ?? job.updatedAt
            let heartbeat = clamped > job.progress && now.timeIntervalSince(lastReport) >= SQLiteJobStore.progressHeartbeat
            job.progress = clamped
            job.speed = speed.map { ($0 * 100).rounded() / 100 }
            job.etaSeconds = eta.map { (max(0, $0) * 10).rounded() / 10 }
            job.updatedAt = now
            try await db.run("""
                UPDATE job SET progress = \(job.progress), speed = \(job.speed), eta_seconds = \(job.etaSeconds),
                  updated_at = \(now)
                WHERE id = \(id)
                """)
            if crossedStep || heartbeat {
                try await db.run(PostgresRecords.insert(JobEvent.make(.progress, for: job, now: now)))
            }
            db.notifyOnCommit()
        }
    }

    public func requestCancel(_ id: Int64) async throws -> Job {
        let flagged = try await session.write("asking job \(id) to stop") { db -> Job? in
            guard var job = try await Self.locked(id, db) else { throw StoreError.noSuchJob(id) }
            guard !job.state.isFinal else { throw StoreError.invalid(job, "cancel") }
            guard job.state != .queued else { return nil }
            job.cancelRequested = true
            job.updatedAt = Date()
            try await db.run(PostgresRecords.update(job))
            db.notifyOnCommit()
            return job
        }
        if let flagged { return flagged }
        return try await transition(id, .cancelled(reason: "cancelled by request"))
    }

    public func commitWaiter() -> CommitWaiter { session.ticks.subscribe() }

    /// Round trips to the server since the store was opened (each statement, `BEGIN` and `COMMIT` included).
    public var statementsExecuted: Int { session.statements.count }

    public func claimEffect(_ id: Int64, node: String, until: Date, now: Date) async throws -> Bool {
        try await session.write("claiming file effect \(id)") { db in
            try await db.value("""
                UPDATE effect SET claimed_by = \(node), claimed_until = \(until)
                WHERE id = \(id) AND done_at IS NULL AND (claimed_by IS NULL OR claimed_by = \(node) OR claimed_until < \(now))
                RETURNING id
                """, as: Int64.self) != nil
        }
    }

    public func markEffectDone(_ id: Int64) async throws {
        try await session.write("marking file effect \(id) done") { db in
            try await db.run("UPDATE effect SET done_at = \(Date()) WHERE id = \(id)")
            db.notifyOnCommit()
        }
    }

    public func placeEffect(_ id: Int64, at path: String) async throws {
        try await session.write("recording where file effect \(id) moves its file") { db in
            guard let row = try await db.rows("""
                UPDATE effect SET placed = \(path) WHERE id = \(id) RETURNING job_id, kind
                """).first else { return }
            let (jobId, kind) = try row.decode((Int64, String).self)
            if kind == FileEffect.Kind.restore.rawValue, let job = try await Self.locked(jobId, db) {
                let renamed = SQLiteJobStore.renamed(job.sourcePath, to: (path as NSString).lastPathComponent)
                try await db.run("UPDATE job SET source_path = \(renamed), updated_at = \(Date()) WHERE id = \(jobId)")
            }
            db.notifyOnCommit()
        }
    }

    public func relocate(_ id: Int64, to location: String, lease: Int64?) async throws {
        try await session.write("recording a new output location for job \(id)") { db in
            guard let job = try await Self.locked(id, db) else { throw StoreError.noSuchJob(id) }
            if let lease, job.leaseToken != lease { throw StoreError.leaseLost(job) }
            guard job.state == .publishing else { throw StoreError.invalid(job, "publish elsewhere") }
            try await db.run("UPDATE job SET output_location = \(location), updated_at = \(Date()) WHERE id = \(id)")
            db.notifyOnCommit()
        }
    }
}

extension PostgresJobStore {
    /// Runs `sql` (one statement, no parameters) in a transaction of its own, waking the store's waiters: for tests
    /// and maintenance, which reach past the protocol.
    func execute(unsafeSQL sql: String) async throws {
        try await session.write("running \(sql)") { db in
            try await db.run(PostgresQuery(unsafeSQL: sql))
            db.notifyOnCommit()
        }
    }
}
