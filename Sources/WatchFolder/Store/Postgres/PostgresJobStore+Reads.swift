public import Foundation
import PostgresNIO

/// What the daemon, the CLI, the dashboard and the status API read, each one bounded query (or a few in one
/// snapshot), as ``SQLiteJobStore``'s.
extension PostgresJobStore {
    private var columns: String { PostgresRecords.jobColumns }

    public func job(_ id: Int64) async throws -> Job? {
        try await session.rows("reading job \(id)", "SELECT \(unescaped: columns) FROM job WHERE id = \(id)")
            .first.map(PostgresRecords.job)
    }

    public func list(state: Job.State?, limit: Int, before cursor: Int64?) async throws -> [Job] {
        try PostgresRecords.jobs(try await session.rows("listing jobs", """
            SELECT \(unescaped: columns) FROM job
            WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
              AND (\(cursor)::bigint IS NULL OR id < \(cursor))
            ORDER BY id DESC LIMIT \(max(0, limit))
            """))
    }

    public func jobs(in state: Job.State) async throws -> [Job] {
        try PostgresRecords.jobs(try await session.rows("listing \(state.rawValue) jobs", """
            SELECT \(unescaped: columns) FROM job WHERE state = \(state.rawValue) ORDER BY created_at, id
            """))
    }

    public func counts() async throws -> [Job.State: Int] {
        try await session.read("counting jobs") { db in try await Self.counts(db) }
    }

    /// Jobs per state, zeros included.
    static func counts(_ db: PostgresTransaction) async throws -> [Job.State: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Job.State.allCases.map { ($0, 0) })
        for row in try await db.rows("SELECT state, COUNT(*) FROM job GROUP BY state") {
            let (name, count) = try row.decode((String, Int).self)
            if let state = Job.State(rawValue: name) { counts[state] = count }
        }
        return counts
    }

    public func summary(now: Date) async throws -> JobSummary {
        try await session.read("summarizing the jobs") { db in
            let due = try await db.value("""
                SELECT COUNT(*) FROM job WHERE state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= \(now))
                """, as: Int.self) ?? 0
            let last = try await db.value("SELECT MAX(id) FROM event", as: Int64.self) ?? 0
            return JobSummary(counts: try await Self.counts(db), due: due, lastEventID: last)
        }
    }

    public func running(limit: Int) async throws -> [Job] {
        try PostgresRecords.jobs(try await session.rows("listing running jobs", """
            SELECT \(unescaped: columns) FROM job WHERE state IN ('running', 'publishing')
            ORDER BY started_at NULLS FIRST, id LIMIT \(max(0, limit))
            """))
    }

    public func nextQueued(limit: Int, now: Date) async throws -> [Job] {
        try PostgresRecords.jobs(try await session.rows("listing the queue", """
            SELECT \(unescaped: columns) FROM job WHERE state = 'queued'
            ORDER BY CASE WHEN next_attempt_at IS NULL OR next_attempt_at <= \(now) THEN 0 ELSE 1 END, created_at, id
            LIMIT \(max(0, limit))
            """))
    }

    public func recentlyFinished(_ states: [Job.State], limit: Int) async throws -> [Job] {
        try PostgresRecords.jobs(try await session.rows("listing finished jobs", """
            SELECT \(unescaped: columns) FROM job WHERE state = ANY(\(states.map(\.rawValue)))
            ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT \(max(0, limit))
            """))
    }

    public func nextRetry(after now: Date) async throws -> Date? {
        try await session.rows("reading the next retry", """
            SELECT MIN(next_attempt_at) FROM job WHERE state = 'queued' AND next_attempt_at > \(now)
            """).first?.decode(Date?.self)
    }

    public func cancelRequests() async throws -> [Int64] {
        try await session.rows("reading cancellation requests", """
            SELECT id FROM job WHERE cancel_requested AND state IN ('running', 'publishing') ORDER BY id
            """).map { try $0.decode(Int64.self) }
    }

    public func sidecars(job id: Int64) async throws -> [Sidecar] {
        try await session.rows("reading the sidecars of job \(id)", "SELECT * FROM sidecar WHERE job_id = \(id) ORDER BY name COLLATE \"C\"")
            .map(PostgresRecords.sidecar)
    }

    public func pendingEffects(job id: Int64?) async throws -> [FileEffect] {
        try await session.rows("reading pending file effects", """
            SELECT * FROM effect WHERE done_at IS NULL AND (\(id)::bigint IS NULL OR job_id = \(id)) ORDER BY id
            """).map(PostgresRecords.effect)
    }

    public func lastPlacement(job id: Int64, kind: FileEffect.Kind) async throws -> String? {
        guard let row = try await session.rows("reading where job \(id)'s files went", """
            SELECT placed, target FROM effect WHERE job_id = \(id) AND kind = \(kind.rawValue) ORDER BY id DESC LIMIT 1
            """).first else { return nil }
        let (placed, target) = try row.decode((String?, String?).self)
        return placed ?? target
    }

    @discardableResult
    public func pruneEvents(before cutoff: Date) async throws -> Int {
        // The webhook queue's trigger keeps the events whose deliveries are pending (RETURNING lists only deleted rows).
        try await session.write("pruning old events") { db in
            try await db.rows("DELETE FROM event WHERE created_at < \(cutoff) RETURNING id").count
        }
    }

    public func events(after id: Int64, limit: Int) async throws -> [JobEvent] {
        try await session.rows("reading events", "SELECT * FROM event WHERE id > \(id) ORDER BY id LIMIT \(max(0, limit))")
            .map(PostgresRecords.event)
    }

    /// Ticks at once, then after every commit any node made to jobs, events or effects (heard through LISTEN/NOTIFY,
    /// coalesced while the reader is busy). Ends when the consumer stops iterating.
    public func changes() -> AsyncStream<Void> {
        let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let waiter = session.ticks.subscribe()
        tick.yield()
        let task = Task {
            while !Task.isCancelled {
                await waiter.wait()
                if Task.isCancelled { break }
                tick.yield()
            }
        }
        tick.onTermination = { _ in
            task.cancel()
            waiter.cancel()
        }
        return ticks
    }
}
