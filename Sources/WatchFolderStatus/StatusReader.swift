import Foundation
import GRDB
import WatchFolder

/// The status server's read side of the job store: pages, counts, events and jobs, straight from the GRDB
/// `DatabasePool` (WAL readers never block the daemon's writes).
struct StatusReader: Sendable {
    let pool: DatabasePool

    init(store: SQLiteJobStore) {
        pool = store.pool
    }

    /// Newest first, ids below `cursor`, at most `limit`, optionally only `state`.
    func page(state: Job.State?, limit: Int, before cursor: Int64?) async throws -> [Job] {
        try await pool.read { db in
            var request = Job.all().newestFirst()
            if let state { request = request.inState(state) }
            if let cursor { request = request.filter(Job.Columns.id < cursor) }
            return try request.limit(limit).fetchAll(db)
        }
    }

    func job(_ id: Int64) async throws -> Job? {
        try await pool.read { db in try Job.fetchOne(db, key: id) }
    }

    /// Jobs per state (zeros included), queued jobs due now, and the newest event id.
    func summary(now: Date = Date()) async throws -> (counts: [Job.State: Int], due: Int, lastEventID: Int64) {
        try await pool.read { db in
            var counts = Dictionary(uniqueKeysWithValues: Job.State.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
                if let state = Job.State(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            let due = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM job WHERE state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                """, arguments: [now]) ?? 0
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM event") ?? 0
            return (counts, due, last)
        }
    }

    /// Events after `id`, oldest first.
    func events(after id: Int64, limit: Int) async throws -> [JobEvent] {
        try await pool.read { db in
            try JobEvent.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// The API view of `job`, with speed and ETA while it runs (recorded by the daemon from the engine's
    /// progress: the status server never opens a source).
    func resource(_ job: Job) async -> JobResource {
        JobResource(job)
    }
}
