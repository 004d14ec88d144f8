public import Foundation
import GRDB

/// What an operator asks the dashboard, each answered by its own bounded query, at any queue length.
extension SQLiteJobStore {
    /// Running and publishing jobs, longest running first (at most `limit`).
    public func running(limit: Int) async throws -> [Job] {
        try await pool.read { db in
            try Job.filter([Job.State.running, Job.State.publishing].contains(Job.Columns.state))
                .order(Job.Columns.startedAt, Job.Columns.id).limit(max(0, limit)).fetchAll(db)
        }
    }

    /// The first `limit` queued jobs in the order the scheduler takes them: those due now by arrival
    /// (``claimNext(now:)``), then those waiting for a retry.
    public func nextQueued(limit: Int, now: Date = Date()) async throws -> [Job] {
        try await pool.read { db in
            try Job.fetchAll(db, sql: """
                SELECT * FROM job WHERE state = 'queued'
                ORDER BY CASE WHEN next_attempt_at IS NULL OR next_attempt_at <= ? THEN 0 ELSE 1 END, created_at, id
                LIMIT ?
                """, arguments: [now, max(0, limit)])
        }
    }

    /// The `limit` jobs in `states` that finished last, most recent first.
    public func recentlyFinished(_ states: [Job.State], limit: Int) async throws -> [Job] {
        try await pool.read { db in
            try Job.filter(states.contains(Job.Columns.state))
                .order(Job.Columns.finishedAt.desc, Job.Columns.id.desc).limit(max(0, limit)).fetchAll(db)
        }
    }
}
