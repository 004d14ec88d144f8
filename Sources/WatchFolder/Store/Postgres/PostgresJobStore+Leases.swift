public import Foundation
import PostgresNIO

/// Nodes and leases, as ``SQLiteJobStore``'s (README "Nodes and leases").
extension PostgresJobStore {
    public func takeOver(_ job: Job, now: Date, node: NodeIdentity, previousLife: Bool) async throws -> Job? {
        guard let id = job.id else { return nil }
        return try await session.write("taking over job \(id)") { db in
            let now = LeaseClock.stamp(now)  // the call may have waited for the store: a lease starts when it is written
            guard var current = try await Self.locked(id, db),
                  current.takeOver(from: job, by: node, now: now, previousLife: previousLife) else { return nil }
            try await db.run("""
                UPDATE job SET node = \(current.node), lease_token = \(current.leaseToken),
                  lease_expires_at = \(current.leaseExpiresAt), updated_at = \(now)
                WHERE id = \(id)
                """)
            db.notifyOnCommit()
            return current
        }
    }

    public func heartbeat(node: NodeIdentity, leases: [Int64: Int64], encoder: String?, now: Date) async throws -> Heartbeat {
        try await session.write("recording node \(node.name)'s heartbeat") { db in
            let now = LeaseClock.stamp(now)  // the call may have waited for the store: a lease starts when it is written
            try await db.run("""
                INSERT INTO node (name, version, encoder, lease_seconds, started_at, heartbeat_at, stopped_at)
                VALUES (\(node.name), \(node.version), \(encoder), \(node.leaseSeconds), \(now), \(now), NULL)
                ON CONFLICT (name) DO UPDATE SET version = excluded.version, encoder = excluded.encoder,
                  lease_seconds = excluded.lease_seconds, heartbeat_at = excluded.heartbeat_at,
                  started_at = CASE WHEN node.stopped_at IS NULL THEN node.started_at ELSE excluded.started_at END,
                  stopped_at = NULL
                """)
            var lost = Set<Int64>()
            if !leases.isEmpty {
                // One statement renews them all: the ids whose token still matches come back.
                let ids = leases.keys.sorted()
                let renewed = Set(try await db.rows("""
                    UPDATE job SET lease_expires_at = \(now.addingTimeInterval(node.leaseSeconds))
                    FROM unnest(\(ids), \(ids.map { leases[$0] ?? 0 })) AS held(id, token)
                    WHERE job.id = held.id AND job.lease_token = held.token AND job.state IN ('running', 'publishing')
                    RETURNING job.id
                    """).map { try $0.decode(Int64.self) })
                lost = Set(ids).subtracting(renewed)
                if !renewed.isEmpty { db.notifyOnCommit() }
            }
            let expired = try PostgresRecords.jobs(try await db.rows("""
                SELECT \(unescaped: PostgresRecords.jobColumns) FROM job WHERE state IN ('running', 'publishing')
                  AND (lease_expires_at IS NULL OR lease_expires_at < \(now))
                ORDER BY id
                """)).filter { leases[$0.id ?? 0] == nil }
            return Heartbeat(lost: lost, expired: expired)
        }
    }

    public func leave(node: NodeIdentity, now: Date) async throws {
        try await session.write("recording that node \(node.name) left") { db in
            _ = try await db.run("UPDATE node SET stopped_at = \(now) WHERE name = \(node.name)")
        }
    }

    public func nodes(now: Date) async throws -> [NodeStatus] {
        try await session.read("reading the nodes") { db in
            var running: [String: [Int64]] = [:]
            for row in try await db.rows("""
                SELECT node, id FROM job WHERE state IN ('running', 'publishing') AND node IS NOT NULL ORDER BY id
                """) {
                let (name, id) = try row.decode((String, Int64).self)
                running[name, default: []].append(id)
            }
            return try await db.rows("""
                SELECT name, heartbeat_at, lease_seconds, stopped_at, encoder, version FROM node ORDER BY name COLLATE "C"
                """).map { row in
                let (name, heartbeat, lease, stopped, encoder, version) =
                    try row.decode((String, Date, Double, Date?, String?, String).self)
                let up = stopped == nil && now.timeIntervalSince(heartbeat) <= lease
                return NodeStatus(name: name, heartbeatAt: heartbeat, running: running[name] ?? [], encoder: encoder,
                                  version: version, state: up ? .up : .gone)
            }
        }
    }
}
