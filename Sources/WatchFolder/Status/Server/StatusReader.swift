import Foundation
import GRDB
import NIOPosix
import Pipeline
import Synchronization
import WatchFolder

/// The status server's read side of the job store: pages, counts, events and the live figures of running
/// jobs, straight from the GRDB `DatabasePool` (WAL readers never block the daemon's writes).
struct StatusReader: Sendable {
    let pool: DatabasePool
    let inbox: URL
    let estimator: ProgressEstimator

    init(store: SQLiteJobStore, inbox: URL) {
        pool = store.pool
        self.inbox = inbox
        estimator = ProgressEstimator(inbox: inbox)
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

    /// The API view of `job`, with speed and ETA while it runs.
    func resource(_ job: Job) async -> JobResource {
        JobResource(job, live: job.state == .running ? await estimator.estimate(job) : nil)
    }
}

/// Speed (x realtime) and ETA of running jobs, from their progress, their start and the source's duration
/// (probed once per job with the engine's in-process prober, on NIO's thread pool: a probe reads the file and
/// may take a while, so it never runs on the cooperative pool that serves requests).
final class ProgressEstimator: Sendable {
    struct Estimate: Sendable, Hashable {
        var speed: Double?
        var etaSeconds: Double?
    }

    let inbox: URL
    private let durations = Mutex<[Int64: Double]>([:])

    init(inbox: URL) { self.inbox = inbox }

    func estimate(_ job: Job, now: Date = Date()) async -> Estimate {
        guard let id = job.id, let started = job.startedAt else { return Estimate() }
        let elapsed = now.timeIntervalSince(started)
        guard elapsed > 0, job.progress > 0.005 else { return Estimate() }
        let eta = max(0, elapsed * (1 - job.progress) / job.progress)
        var speed: Double?
        if let duration = await duration(id: id, path: job.sourcePath), duration > 0 {
            speed = (job.progress * duration / elapsed * 100).rounded() / 100
        }
        return Estimate(speed: speed, etaSeconds: (eta * 10).rounded() / 10)
    }

    private func duration(id: Int64, path: String) async -> Double? {
        if let known = durations.withLock({ $0[id] }) { return known }
        // The engine's own open and probe (beneath the inbox, no symlinks, media containers only, within
        // probe_seconds), on NIO's thread pool: it blocks.
        let inbox = self.inbox
        let probed = try? await NIOThreadPool.singleton.runIfActive { try Prober.probe(try SourceFile.open(path, beneath: inbox)) }
        let seconds = probed?.durationSeconds ?? 0  // 0: unknown, not probed again
        durations.withLock {
            if $0.count > 256 { $0.removeAll() }
            $0[id] = seconds
        }
        return seconds
    }
}
