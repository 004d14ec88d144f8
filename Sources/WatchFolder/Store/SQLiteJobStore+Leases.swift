public import Foundation
import GRDB

extension SQLiteJobStore {
    public func takeOver(_ job: Job, now: Date, node: NodeIdentity, previousLife: Bool) async throws -> Job? {
        guard let id = job.id else { return nil }
        return try await pool.write { db in
            let now = LeaseClock.stamp(now)  // the call may have waited for the store: a lease starts when it is written
            guard var current = try Job.fetchOne(db, key: id),
                  current.takeOver(from: job, by: node, now: now, previousLife: previousLife) else { return nil }
            try current.update(db, columns: ["node", "lease_token", "lease_expires_at", "updated_at"])
            return current
        }
    }

    public func heartbeat(node: NodeIdentity, leases: [Int64: Int64], encoder: String?, now: Date) async throws -> Heartbeat {
        try await pool.write { db in
            let now = LeaseClock.stamp(now)  // the call may have waited for the store: a lease starts when it is written
            try db.execute(sql: """
                INSERT INTO node (name, version, encoder, lease_seconds, started_at, heartbeat_at, stopped_at)
                VALUES (?, ?, ?, ?, ?, ?, NULL)
                ON CONFLICT(name) DO UPDATE SET version = excluded.version, encoder = excluded.encoder,
                  lease_seconds = excluded.lease_seconds, heartbeat_at = excluded.heartbeat_at,
                  started_at = CASE WHEN node.stopped_at IS NULL THEN node.started_at ELSE excluded.started_at END,
                  stopped_at = NULL
                """, arguments: [node.name, node.version, encoder, node.leaseSeconds, now, now])
            let until = now.addingTimeInterval(node.leaseSeconds)
            var lost = Set<Int64>()
            for (id, token) in leases {
                try db.execute(sql: """
                    UPDATE job SET lease_expires_at = ?
                    WHERE id = ? AND lease_token = ? AND state IN ('running', 'publishing')
                    """, arguments: [until, id, token])
                if db.changesCount == 0 { lost.insert(id) }
            }
            let expired = try Job.fetchAll(db, sql: """
                SELECT * FROM job WHERE state IN ('running', 'publishing')
                  AND (lease_expires_at IS NULL OR lease_expires_at < ?)
                ORDER BY id
                """, arguments: [now]).filter { leases[$0.id ?? 0] == nil }
            return Heartbeat(lost: lost, expired: expired)
        }
    }

    public func leave(node: NodeIdentity, now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE node SET stopped_at = ? WHERE name = ?", arguments: [now, node.name])
        }
    }

    public func nodes(now: Date) async throws -> [NodeStatus] {
        try await pool.read { db in
            var running: [String: [Int64]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT node, id FROM job WHERE state IN ('running', 'publishing') AND node IS NOT NULL ORDER BY id
                """) {
                running[row["node"], default: []].append(row["id"])
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM node ORDER BY name").map { row in
                let name: String = row["name"]
                let heartbeat: Date = row["heartbeat_at"]
                let lease: Double = row["lease_seconds"]
                let stopped: Date? = row["stopped_at"]
                let up = stopped == nil && now.timeIntervalSince(heartbeat) <= lease
                return NodeStatus(name: name, heartbeatAt: heartbeat, running: running[name] ?? [], encoder: row["encoder"],
                                  version: row["version"], state: up ? .up : .gone)
            }
        }
    }
}
