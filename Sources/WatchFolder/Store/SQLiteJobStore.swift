public import Foundation
public import GRDB

/// The embedded job store: one SQLite file in WAL mode (a GRDB `DatabasePool`), shared by the daemon and the
/// CLI. Readers never block the writer; every write is one short IMMEDIATE transaction.
public struct SQLiteJobStore: JobStore {
    public let pool: DatabasePool
    /// Ticks after each commit through ``pool`` (see ``commitWaiter()``); the daemon ticks it for other processes' too.
    public let commits: CommitTicks
    private let statements: StatementCounter

    /// Opens (creating if needed) the database at `url` and migrates it.
    /// - Throws: GRDB's `DatabaseError` when the file cannot be opened or migrated.
    public init(url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "watchfolder.store"
        let statements = StatementCounter()
        configuration.prepareDatabase { db in db.trace(options: .statement) { _ in statements.add() } }
        self.statements = statements
        pool = try DatabasePool(path: url.path, configuration: configuration)
        commits = CommitTicks.observing(pool)
        // WAL + FULL: every commit is on disk (one fdatasync of the WAL) before it returns, so nothing that a webhook,
        // the API or a published URL has told the world can be taken back by a power cut. Intake records in batches,
        // so a 10,000-file flood costs a few syncs, not 10,000. Set on the writer connection after GRDB enabled WAL
        // (which sets NORMAL); readers never commit.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.checkSchema(pool, path: url.path)
        try Self.migrator.migrate(pool)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA user_version = \(max(Self.schemaVersion, try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0))")
        }
    }

    /// Closes every connection now, before the process exits. A process whose exit waits on a thread stuck in a
    /// read of a hung share keeps its descriptors, and with them any lock a connection closing during the exit held:
    /// the next daemon and the CLI would find the database locked until the share answers.
    /// - Throws: GRDB's `DatabaseError` when a connection is still in use (nothing is closed then).
    public func close() throws {
        try pool.close()
    }

    /// Adds the tables of a layer above the store to its database (Notify's webhook tables): `register` adds that
    /// layer's migrations after the store's own; the migrator applies those not applied yet, in order.
    /// - Throws: GRDB's `DatabaseError` when a migration fails (nothing of it is applied then).
    public func migrate(registering register: (inout DatabaseMigrator) -> Void) throws {
        var migrator = Self.migrator
        register(&migrator)
        try migrator.migrate(pool)
    }

    public func enqueue(_ files: [InboxFile]) async throws -> [Job] {
        guard !files.isEmpty else { return [] }
        return try await pool.write { db in
            var created: [Job] = []
            let now = Date()
            for file in files {
                // A job holds its file until the file has left the inbox: released, and its move carried out.
                // (Between a final transition's commit and its move, a settle or rescan must not take the file
                // again; nor after a crash in that gap.)
                let known = try Job.filter(sql: """
                    source_path = ? AND (released = 0
                      OR EXISTS (SELECT 1 FROM effect WHERE effect.job_id = job.id AND effect.done_at IS NULL))
                    """, arguments: [file.relativePath]).fetchAll(db)
                var job: Job
                switch Job.recording(file, known: known, now: now) {
                case .seen:
                    continue
                case let .follows(queued):
                    try queued.update(db)
                    try Self.record(file.sidecars, job: queued.id ?? 0, db)
                    continue
                case let .new(fresh):
                    job = fresh
                }
                do {
                    try job.insert(db)
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    continue  // the unique fingerprint index: already recorded (only the statement is undone)
                }
                try Self.record(file.sidecars, job: job.id ?? 0, db)
                var event = JobEvent.make(.queued, for: job, now: now)
                try event.insert(db)
                created.append(job)
            }
            return created
        }
    }

    public func claimNext(now: Date, node: NodeIdentity) async throws -> Job? {
        try await pool.write { db in
            let now = LeaseClock.stamp(now)  // the call may have waited for the store: a lease starts when it is written
            guard var job = try Job.fetchOne(db, sql: """
                SELECT * FROM job
                WHERE state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                  AND NOT EXISTS (SELECT 1 FROM effect WHERE effect.job_id = job.id AND effect.done_at IS NULL)
                ORDER BY created_at, id LIMIT 1
                """, arguments: [now]) else { return nil }
            job.state = .running
            job.attempts += 1
            job.progress = 0
            job.startedAt = now
            job.finishedAt = nil
            job.nextAttemptAt = nil
            job.updatedAt = now
            job.lease(to: node, now: now)
            try job.update(db)
            var event = JobEvent.make(.started, for: job, now: now)
            try event.insert(db)
            return job
        }
    }

    @discardableResult
    public func transition(_ id: Int64, _ change: JobTransition, lease: Int64?) async throws -> Job {
        try await pool.write { db in
            guard var job = try Job.fetchOne(db, key: id) else { throw StoreError.noSuchJob(id) }
            if let lease, job.leaseToken != lease { throw StoreError.leaseLost(job) }
            let now = Date()
            let writes = try job.apply(change, now: now)
            if writes.forgetSidecars {
                try db.execute(sql: "DELETE FROM sidecar WHERE job_id = ? AND error IS NULL", arguments: [id])
            }
            if let effect = writes.effect {
                var row = job.effectRow(effect, now: now)
                try row.insert(db)
                for sidecar in try Sidecar.filter(Column("job_id") == id).fetchAll(db) {
                    guard var row = Self.effect(effect, for: sidecar, now: now) else { continue }
                    try row.insert(db)
                }
            }
            job.updatedAt = now
            try job.update(db)
            if let event = writes.event {
                var row = JobEvent.make(event, for: job, now: now)
                try row.insert(db)
            }
            return job
        }
    }

    public func sidecars(job id: Int64) async throws -> [Sidecar] {
        try await pool.read { db in try Sidecar.filter(Column("job_id") == id).order(Column("name")).fetchAll(db) }
    }

    /// Seconds after which progress is reported even without crossing a 10 % step.
    static let progressHeartbeat: TimeInterval = 30

    public func updateProgress(_ id: Int64, fraction: Double, speed: Double?, eta: Double?, lease: Int64?) async throws {
        try await pool.write { db in
            guard var job = try Job.fetchOne(db, key: id), job.state == .running else { return }
            if let lease, job.leaseToken != lease { throw StoreError.leaseLost(job) }
            let clamped = min(max(fraction, 0), 1)
            let crossedStep = Int(clamped * 10) > Int(job.progress * 10)
            let now = Date()
            // A slow encode still reports every 30 s (when it moved), so receivers see it is alive.
            let lastReport = try Date.fetchOne(db, sql: """
                SELECT MAX(created_at) FROM event WHERE job_id = ? AND type = 'job.progress'
                """, arguments: [id]) ?? job.startedAt ?? job.updatedAt
            let heartbeat = clamped > job.progress && now.timeIntervalSince(lastReport) >= Self.progressHeartbeat
            job.progress = clamped
            job.speed = speed.map { ($0 * 100).rounded() / 100 }
            job.etaSeconds = eta.map { (max(0, $0) * 10).rounded() / 10 }
            job.updatedAt = now
            try job.update(db, columns: ["progress", "speed", "eta_seconds", "updated_at"])
            if crossedStep || heartbeat {
                var event = JobEvent.make(.progress, for: job, now: job.updatedAt)
                try event.insert(db)
            }
        }
    }

    public func requestCancel(_ id: Int64) async throws -> Job {
        let job = try await pool.write { db -> Job? in
            guard var job = try Job.fetchOne(db, key: id) else { throw StoreError.noSuchJob(id) }
            guard !job.state.isFinal else { throw StoreError.invalid(job, "cancel") }
            guard job.state != .queued else { return nil }
            job.cancelRequested = true
            job.updatedAt = Date()
            try job.update(db)
            return job
        }
        if let job { return job }
        return try await transition(id, .cancelled(reason: "cancelled by request"))
    }

    public func commitWaiter() -> CommitWaiter { commits.subscribe() }

    public var statementsExecuted: Int { statements.count }

    public func nextRetry(after now: Date) async throws -> Date? {
        try await pool.read { db in
            try Date.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM job WHERE state = 'queued' AND next_attempt_at > ?",
                              arguments: [now])
        }
    }

    public func cancelRequests() async throws -> [Int64] {
        try await pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM job WHERE cancel_requested AND state IN ('running', 'publishing')")
        }
    }

    public func job(_ id: Int64) async throws -> Job? {
        try await pool.read { db in try Job.fetchOne(db, key: id) }
    }

    public func list(state: Job.State?, limit: Int, before cursor: Int64?) async throws -> [Job] {
        try await pool.read { db in
            var request = Job.all().newestFirst()
            if let state { request = request.inState(state) }
            if let cursor { request = request.filter(Job.Columns.id < cursor) }
            return try request.limit(max(0, limit)).fetchAll(db)
        }
    }

    public func jobs(in state: Job.State) async throws -> [Job] {
        try await pool.read { db in try Job.all().inState(state).oldestFirst().fetchAll(db) }
    }

    public func counts() async throws -> [Job.State: Int] {
        try await pool.read { db in try Self.counts(db) }
    }

    /// Jobs per state, zeros included.
    static func counts(_ db: Database) throws -> [Job.State: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Job.State.allCases.map { ($0, 0) })
        for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
            if let state = Job.State(rawValue: row["state"]) { counts[state] = row["n"] }
        }
        return counts
    }

    public func pendingEffects(job id: Int64?) async throws -> [FileEffect] {
        try await pool.read { db in
            var request = FileEffect.filter(FileEffect.Columns.doneAt == nil)
            if let id { request = request.filter(FileEffect.Columns.jobId == id) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    public func claimEffect(_ id: Int64, node: String, until: Date, now: Date) async throws -> Bool { true }

    public func markEffectDone(_ id: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE effect SET done_at = ? WHERE id = ?", arguments: [Date(), id])
        }
    }

    public func placeEffect(_ id: Int64, at path: String) async throws {
        try await pool.write { db in
            guard var effect = try FileEffect.fetchOne(db, key: id) else { return }
            effect.placed = path
            try effect.update(db, columns: ["placed"])
            if effect.kind == .restore, var job = try Job.fetchOne(db, key: effect.jobId) {
                job.sourcePath = Self.renamed(job.sourcePath, to: (path as NSString).lastPathComponent)
                job.updatedAt = Date()
                try job.update(db, columns: ["source_path", "updated_at"])
            }
        }
    }

    public func lastPlacement(job id: Int64, kind: FileEffect.Kind) async throws -> String? {
        try await pool.read { db in
            let effect = try FileEffect.filter(FileEffect.Columns.jobId == id && FileEffect.Columns.kind == kind)
                .order(Column("id").desc).fetchOne(db)
            return effect?.placed ?? effect?.target
        }
    }

    public func relocate(_ id: Int64, to location: String, lease: Int64?) async throws {
        try await pool.write { db in
            guard var job = try Job.fetchOne(db, key: id) else { throw StoreError.noSuchJob(id) }
            if let lease, job.leaseToken != lease { throw StoreError.leaseLost(job) }
            guard job.state == .publishing else { throw StoreError.invalid(job, "publish elsewhere") }
            job.outputLocation = location
            job.updatedAt = Date()
            try job.update(db, columns: ["output_location", "updated_at"])
        }
    }

    /// `relative` (a source path under the inbox) with its file name replaced by `name`, in the same folder.
    static func renamed(_ relative: String, to name: String) -> String {
        let folder = (relative as NSString).deletingLastPathComponent
        return folder.isEmpty ? name : folder + "/" + name
    }

    public func events(after id: Int64, limit: Int) async throws -> [JobEvent] {
        try await pool.read { db in
            try JobEvent.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
        }
    }
}
