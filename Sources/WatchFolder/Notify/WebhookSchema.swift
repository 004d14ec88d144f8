import GRDB

/// The webhook tables, added to the job store's database through its migrator (``install(in:)``).
///
/// - `webhook_endpoint`: one row per configured `[[webhook]]` URL (the endpoint's identity), with the event types
///   it receives as `,job.queued,job.completed,` and whether it is still configured.
/// - `delivery`: one row per (event, endpoint), `pending` → `delivered` or `failed`.
///
/// The `event_fans_out_to_webhooks` trigger inserts the delivery rows of an event in the statement that inserts
/// the event, so they commit in the transaction of the job transition that caused it (the transactional-outbox pattern): an
/// event that exists has its deliveries, even across `kill -9`. The `event_kept_while_delivery_pending` trigger
/// keeps an event from being deleted (the store's event pruning) while one of its deliveries is pending.
enum WebhookSchema {
    static let migrationName = "v2-webhook-deliveries"

    /// Creates (or completes) the webhook tables in `store`'s database; a no-op once done.
    static func install(in store: SQLiteJobStore) throws {
        try store.migrate { migrator in
            migrator.registerMigration(migrationName, migrate: migrate)
            migrator.registerMigration("v4-webhook-pending-keeps-event") { db in
                try db.execute(sql: """
                    CREATE TRIGGER event_kept_while_delivery_pending BEFORE DELETE ON event
                    WHEN EXISTS (SELECT 1 FROM delivery WHERE delivery.event_id = OLD.id AND delivery.state = 'pending')
                    BEGIN
                        SELECT RAISE(IGNORE);
                    END
                    """)
            }
        }
    }

    static func migrate(_ db: Database) throws {
        try db.create(table: "webhook_endpoint") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("url", .text).notNull().unique()
            t.column("events", .text).notNull()
            t.column("active", .boolean).notNull().defaults(to: true)
            t.column("updated_at", .datetime).notNull()
        }
        let states = WebhookDelivery.State.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
        try db.create(table: "delivery") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("event_id", .integer).notNull().references("event", onDelete: .cascade)
            t.column("endpoint_id", .integer).notNull().references("webhook_endpoint", onDelete: .cascade)
            t.column("state", .text).notNull().check(sql: "state IN (\(states))")
            t.column("attempts", .integer).notNull().defaults(to: 0).check { $0 >= 0 }
            t.column("next_at", .datetime).notNull()
            /// Start of the 24 h retry window: creation, or the last `webhooks resend`.
            t.column("window_started_at", .datetime).notNull()
            t.column("created_at", .datetime).notNull()
            t.column("last_attempt_at", .datetime)
            t.column("last_status", .integer)
            t.column("last_error", .text)
            t.column("delivered_at", .datetime)
            t.uniqueKey(["event_id", "endpoint_id"])
        }
        try db.create(index: "delivery_on_endpoint_state_event", on: "delivery",
                      columns: ["endpoint_id", "state", "event_id"])
        try db.create(index: "delivery_on_state", on: "delivery", columns: ["state", "id"])
        try db.execute(sql: """
            CREATE TRIGGER event_fans_out_to_webhooks AFTER INSERT ON event
            BEGIN
                INSERT INTO delivery (event_id, endpoint_id, state, attempts, next_at, window_started_at, created_at)
                SELECT NEW.id, e.id, 'pending', 0, NEW.created_at, NEW.created_at, NEW.created_at
                FROM webhook_endpoint e
                WHERE e.active AND instr(e.events, ',' || NEW.type || ',') > 0;
            END
            """)
    }
}
