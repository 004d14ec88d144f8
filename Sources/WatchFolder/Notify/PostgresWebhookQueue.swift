public import Foundation
import PostgresNIO

/// The webhook delivery queue in a cluster's PostgreSQL store: the same tables and rules as ``WebhookQueue`` (the
/// store's migrations create them, with the trigger that inserts an event's deliveries in the event's own
/// transaction), plus who sends each endpoint's queue now.
///
/// Every node runs a sender for every endpoint, but one node at a time sends an endpoint's queue: ``next(endpoint:)``
/// holds the endpoint for this node (`webhook_endpoint.sender`) for `holdSeconds` from each call, and lets it go when
/// the queue is empty. An attempt always follows a call that took or renewed the hold, and takes less than the hold,
/// so the endpoint still gets its events one at a time, in order; a node that dies while it sends loses the hold when
/// it ends, and another node sends the delivery again (deliveries are at least once: the receiver dedupes on
/// `webhook-id`).
public struct PostgresWebhookQueue: WebhookDeliveries {
    let store: PostgresJobStore
    let node: String
    let holdSeconds: TimeInterval

    /// - Parameters:
    ///   - node: This node's name (`[state] node`).
    ///   - holdSeconds: How long a call of ``next(endpoint:)`` holds an endpoint: longer than one attempt takes.
    public init(store: PostgresJobStore, node: String, holdSeconds: TimeInterval) {
        self.store = store
        self.node = node
        self.holdSeconds = holdSeconds
    }

    private var session: PostgresSession { store.session }

    @discardableResult
    public func register(_ webhooks: [Config.Webhook], now: Date) async throws -> [String: Int64] {
        try await session.write("registering the webhook endpoints") { db in
            var ids: [String: Int64] = [:]
            for hook in webhooks {
                let events = "," + hook.events.joined(separator: ",") + ","
                ids[hook.url] = try await db.value("""
                    INSERT INTO webhook_endpoint (url, events, active, updated_at) VALUES (\(hook.url), \(events), true, \(now))
                    ON CONFLICT (url) DO UPDATE SET events = excluded.events, active = true, updated_at = excluded.updated_at
                    RETURNING id
                    """, as: Int64.self)
            }
            try await db.run("UPDATE webhook_endpoint SET active = false WHERE NOT (url = ANY(\(webhooks.map(\.url))))")
            return ids
        }
    }

    public func next(endpoint id: Int64) async throws -> WebhookHead {
        let node = node, hold = holdSeconds
        return try await session.write("reading the webhook queue") { db in
            let now = Date()
            // The hold first, the queue second: a node that took the endpoint over just after another let it go
            // (its last delivery marked, then the queue found empty) reads the queue as that node left it.
            let held = try await db.value("""
                UPDATE webhook_endpoint SET sender = \(node), sender_until = \(now.addingTimeInterval(hold))
                WHERE id = \(id) AND (sender IS NULL OR sender = \(node) OR sender_until < \(now)) RETURNING id
                """, as: Int64.self)
            guard held != nil else {
                let until = try await db.value("SELECT sender_until FROM webhook_endpoint WHERE id = \(id)", as: Date.self)
                return .elsewhere(until: until ?? now)
            }
            guard let row = try await db.rows("""
                SELECT \(unescaped: Self.deliveryColumns) FROM delivery WHERE endpoint_id = \(id) AND state = 'pending'
                ORDER BY event_id, id LIMIT 1
                """).first else {
                try await db.run("UPDATE webhook_endpoint SET sender = NULL, sender_until = NULL WHERE id = \(id)")
                return .empty
            }
            return try await Self.info(db, [Self.delivery(row)]).first.map(WebhookHead.delivery) ?? .empty
        }
    }

    public func manifest(job id: Int64) async throws -> String? {
        try await session.rows("reading a job's manifest", "SELECT manifest FROM job WHERE id = \(id)")
            .first.flatMap { try $0.decode(String?.self) }
    }

    public func markDelivered(_ id: Int64, status: Int, now: Date) async throws {
        _ = try await session.write("recording a webhook delivery") { db in
            try await db.run("""
                UPDATE delivery SET state = 'delivered', attempts = attempts + 1, last_attempt_at = \(now),
                  last_status = \(status), last_error = NULL, delivered_at = \(now) WHERE id = \(id)
                """)
        }
    }

    public func markAttemptFailed(_ id: Int64, status: Int?, error: String, next: Date?, now: Date) async throws {
        let state = next == nil ? "failed" : "pending"
        _ = try await session.write("recording a webhook attempt") { db in
            try await db.run("""
                UPDATE delivery SET state = \(state), attempts = attempts + 1, last_attempt_at = \(now),
                  last_status = \(status), last_error = \(error), next_at = COALESCE(\(next), next_at) WHERE id = \(id)
                """)
        }
    }

    public func pendingCount() async throws -> Int {
        try await session.rows("counting pending webhook deliveries", "SELECT count(*) FROM delivery WHERE state = 'pending'")
            .first.map { try $0.decode(Int.self) } ?? 0
    }

    public func list(state: WebhookDelivery.State?, limit: Int) async throws -> [WebhookDeliveryInfo] {
        try await session.read("listing webhook deliveries") { db in
            let rows = try await db.rows("""
                SELECT \(unescaped: Self.deliveryColumns) FROM delivery
                WHERE \(state?.rawValue)::text IS NULL OR state = \(state?.rawValue) ORDER BY id DESC LIMIT \(max(0, limit))
                """)
            return try await Self.info(db, rows.map(Self.delivery))
        }
    }

    public func resend(_ id: Int64, now: Date) async throws -> WebhookDeliveryInfo {
        let info = try await session.write("resending a webhook delivery") { db -> WebhookDeliveryInfo? in
            guard let row = try await db.rows("""
                UPDATE delivery SET state = 'pending', next_at = \(now), window_started_at = \(now), delivered_at = NULL
                WHERE id = \(id) RETURNING \(unescaped: Self.deliveryColumns)
                """).first else { return nil }
            db.notifyOnCommit()  // every node's sender of that endpoint wakes
            return try await Self.info(db, [Self.delivery(row)]).first
        }
        guard let info else { throw WebhookQueueError.noSuchDelivery(id) }
        return info
    }

    public func commitWaiter() -> CommitWaiter { store.commitWaiter() }

    static let deliveryColumns = """
        id, event_id, endpoint_id, state, attempts, next_at, window_started_at, created_at, last_attempt_at, last_status,
        last_error, delivered_at
        """

    static func delivery(_ row: PostgresRow) throws -> WebhookDelivery {
        let r = row.makeRandomAccess()
        let stateName = try r["state"].decode(String.self)
        guard let state = WebhookDelivery.State(rawValue: stateName) else {
            throw PostgresStoreError("the job store has a webhook delivery in an unknown state \(stateName)")
        }
        return WebhookDelivery(id: try r["id"].decode(Int64.self), eventId: try r["event_id"].decode(Int64.self),
                               endpointId: try r["endpoint_id"].decode(Int64.self), state: state,
                               attempts: try r["attempts"].decode(Int.self), nextAt: try r["next_at"].decode(Date.self),
                               windowStartedAt: try r["window_started_at"].decode(Date.self),
                               createdAt: try r["created_at"].decode(Date.self),
                               lastAttemptAt: try r["last_attempt_at"].decode(Date?.self),
                               lastStatus: try r["last_status"].decode(Int?.self),
                               lastError: try r["last_error"].decode(String?.self),
                               deliveredAt: try r["delivered_at"].decode(Date?.self))
    }

    /// Joins deliveries with their events and endpoint URLs, keeping their order.
    private static func info(_ db: PostgresTransaction, _ deliveries: [WebhookDelivery]) async throws -> [WebhookDeliveryInfo] {
        guard !deliveries.isEmpty else { return [] }
        let events = try await db.rows("SELECT * FROM event WHERE id = ANY(\(deliveries.map(\.eventId)))")
            .map(PostgresRecords.event)
        let byID = Dictionary(uniqueKeysWithValues: events.map { ($0.id ?? 0, $0) })
        var urls: [Int64: String] = [:]
        for row in try await db.rows("SELECT id, url FROM webhook_endpoint") {
            let (id, url) = try row.decode((Int64, String).self)
            urls[id] = url
        }
        return deliveries.compactMap { d in
            guard let event = byID[d.eventId], let url = urls[d.endpointId] else { return nil }
            return WebhookDeliveryInfo(delivery: d, event: event, url: url)
        }
    }
}
