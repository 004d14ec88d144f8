public import Foundation
import GRDB

/// What an operator asks the dashboard and the status API, each answered by its own bounded query, at any queue
/// length.
extension SQLiteJobStore {
    public func summary(now: Date) async throws -> JobSummary {
        try await pool.read { db in
            let due = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM job WHERE state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                """, arguments: [now]) ?? 0
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM event") ?? 0
            return JobSummary(counts: try Self.counts(db), due: due, lastEventID: last)
        }
    }

    public func running(limit: Int) async throws -> [Job] {
        try await pool.read { db in
            try Job.filter([Job.State.running, Job.State.publishing].contains(Job.Columns.state))
                .order(Job.Columns.startedAt, Job.Columns.id).limit(max(0, limit)).fetchAll(db)
        }
    }

    public func nextQueued(limit: Int, now: Date) async throws -> [Job] {
        try await pool.read { db in
            try Job.fetchAll(db, sql: """
                SELECT * FROM job WHERE state = 'queued'
                ORDER BY CASE WHEN next_attempt_at IS NULL OR next_attempt_at <= ? THEN 0 ELSE 1 END, created_at, id
                LIMIT ?
                """, arguments: [now, max(0, limit)])
        }
    }

    public func recentlyFinished(_ states: [Job.State], limit: Int) async throws -> [Job] {
        try await pool.read { db in
            try Job.filter(states.contains(Job.Columns.state))
                .order(Job.Columns.finishedAt.desc, Job.Columns.id.desc).limit(max(0, limit)).fetchAll(db)
        }
    }
}
