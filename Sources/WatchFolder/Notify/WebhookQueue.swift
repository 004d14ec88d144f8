public import Foundation
public import GRDB

/// The webhook delivery queue, kept in the job store's database: endpoints, the deliveries of each endpoint,
/// and what the CLI shows. ("Outbox" is only ever the package folder.)
///
/// Deliveries are created by the store's `event` insert itself (the trigger of ``WebhookSchema``); this type
/// only reads them and records the outcome of each attempt, one short transaction each.
public struct WebhookQueue: WebhookDeliveries {
    public let pool: DatabasePool
    /// The store's commit ticks: the sender's endpoint queues wait on them for new deliveries.
    public let commits: CommitTicks

    /// Reads and writes the webhook tables in `pool`, which ``init(store:)`` created; `commits` wakes the sender
    /// (a reader of the backlog, such as the status server, needs none).
    public init(pool: DatabasePool, commits: CommitTicks = CommitTicks()) {
        self.pool = pool
        self.commits = commits
    }

    /// Opens the webhook tables of `store`, creating them on first use.
    /// - Throws: GRDB's `DatabaseError` when they cannot be created.
    public init(store: SQLiteJobStore) throws {
        try WebhookSchema.install(in: store)
        self.init(pool: store.pool, commits: store.commits)
    }

    /// Makes the configured endpoints the active ones: new URLs are added, known URLs take the new `events`,
    /// URLs no longer configured stop receiving new events (their pending deliveries wait until they come back).
    /// Call before anything can record an event, so that no event misses its deliveries.
    /// - Returns: The endpoint id of each configured URL.
    @discardableResult
    public func register(_ webhooks: [Config.Webhook], now: Date) async throws -> [String: Int64] {
        try await pool.write { db in
            var ids: [String: Int64] = [:]
            for hook in webhooks {
                let events = "," + hook.events.joined(separator: ",") + ","
                try db.execute(sql: """
                    INSERT INTO webhook_endpoint (url, events, active, updated_at) VALUES (?, ?, 1, ?)
                    ON CONFLICT(url) DO UPDATE SET events = excluded.events, active = 1, updated_at = excluded.updated_at
                    """, arguments: [hook.url, events, now])
                ids[hook.url] = try Int64.fetchOne(db, sql: "SELECT id FROM webhook_endpoint WHERE url = ?",
                                                   arguments: [hook.url])
            }
            let keep = webhooks.map(\.url)
            let placeholders = keep.isEmpty ? "''" : keep.map { _ in "?" }.joined(separator: ",")
            try db.execute(sql: "UPDATE webhook_endpoint SET active = 0 WHERE url NOT IN (\(placeholders))",
                           arguments: StatementArguments(keep))
            return ids
        }
    }

    /// The head of an endpoint's queue: its oldest pending delivery (by event order), due or not.
    /// Later deliveries of the endpoint wait behind it, so that every endpoint sees events in order.
    public func head(endpoint id: Int64) async throws -> WebhookDeliveryInfo? {
        try await pool.read { db in
            guard let delivery = try WebhookDelivery.fetchOne(db, sql: """
                SELECT * FROM delivery WHERE endpoint_id = ? AND state = 'pending' ORDER BY event_id, id LIMIT 1
                """, arguments: [id]) else { return nil }
            return try Self.info(db, [delivery]).first
        }
    }

    public func next(endpoint id: Int64) async throws -> WebhookHead {
        try await head(endpoint: id).map(WebhookHead.delivery) ?? .empty
    }

    public func commitWaiter() -> CommitWaiter { commits.subscribe() }

    /// The engine's manifest (JSON) of job `id`, if it has one.
    public func manifest(job id: Int64) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT manifest FROM job WHERE id = ?", arguments: [id]) }
    }

    /// A 2xx answer: the delivery is done.
    public func markDelivered(_ id: Int64, status: Int, now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE delivery SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?, last_status = ?,
                    last_error = NULL, delivered_at = ? WHERE id = ?
                """, arguments: [now, status, now, id])
        }
    }

    /// Any other outcome: try again at `next`, or `failed` when `next` is nil.
    public func markAttemptFailed(_ id: Int64, status: Int?, error: String, next: Date?, now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE delivery SET state = ?, attempts = attempts + 1, last_attempt_at = ?, last_status = ?,
                    last_error = ?, next_at = COALESCE(?, next_at) WHERE id = ?
                """, arguments: [next == nil ? "failed" : "pending", now, status, error, next, id])
        }
    }

    /// Deliveries waiting: not yet delivered, not given up.
    public func pendingCount() async throws -> Int {
        try await pool.read { db in
            guard try db.tableExists("delivery") else { return 0 }  // no webhook yet in this database
            return try WebhookDelivery.filter(Column("state") == WebhookDelivery.State.pending).fetchCount(db)
        }
    }

    /// Newest first, optionally only `state`.
    public func list(state: WebhookDelivery.State?, limit: Int) async throws -> [WebhookDeliveryInfo] {
        try await pool.read { db in
            var request = WebhookDelivery.all().order(Column("id").desc).limit(max(0, limit))
            if let state { request = request.filter(Column("state") == state) }
            return try Self.info(db, request.fetchAll(db))
        }
    }

    /// `watchfolder webhooks resend ID`: delivery `id` is pending again, due now, with a fresh 24 h window.
    /// The sender signs it anew when it sends it; its `webhook-id` (the event's uid) stays the same.
    /// - Throws: ``WebhookQueueError`` when there is no such delivery.
    public func resend(_ id: Int64, now: Date) async throws -> WebhookDeliveryInfo {
        try await pool.write { db in
            guard var delivery = try WebhookDelivery.fetchOne(db, key: id) else { throw WebhookQueueError.noSuchDelivery(id) }
            delivery.state = .pending
            delivery.nextAt = now
            delivery.windowStartedAt = now
            delivery.deliveredAt = nil
            try delivery.update(db)
            return try Self.info(db, [delivery])[0]
        }
    }

    /// Joins deliveries with their events and endpoint URLs, keeping their order.
    private static func info(_ db: Database, _ deliveries: [WebhookDelivery]) throws -> [WebhookDeliveryInfo] {
        let events = try JobEvent.fetchAll(db, keys: Set(deliveries.map(\.eventId)))
        let byID = Dictionary(uniqueKeysWithValues: events.map { ($0.id ?? 0, $0) })
        var urls: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, url FROM webhook_endpoint") { urls[row["id"]] = row["url"] }
        return deliveries.compactMap { d in
            guard let event = byID[d.eventId], let url = urls[d.endpointId] else { return nil }
            return WebhookDeliveryInfo(delivery: d, event: event, url: url)
        }
    }
}

/// Errors of ``WebhookQueue``.
public struct WebhookQueueError: Error, CustomStringConvertible, Sendable {
    public var description: String
    static func noSuchDelivery(_ id: Int64) -> Self { Self(description: "no webhook delivery \(id)") }
}
