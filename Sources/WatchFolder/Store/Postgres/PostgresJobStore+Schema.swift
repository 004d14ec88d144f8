import Foundation
import PostgresNIO

extension PostgresJobStore {
    /// Versioned, named migrations, the same steps (and names) as ``SQLiteJobStore``'s. Never edit a released one: add
    /// a new one at the end.
    static let migrations: [(identifier: String, statements: [String])] = {
        let states = Job.State.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let kinds = JobEvent.Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let effects = FileEffect.Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
        return [
            ("v1-jobs-events-effects", [
                """
                CREATE TABLE job (
                  id bigserial PRIMARY KEY,
                  source_path text NOT NULL CHECK (length(source_path) > 0),
                  device bigint NOT NULL, inode bigint NOT NULL, size bigint NOT NULL, mtime_ns bigint NOT NULL,
                  state text NOT NULL CHECK (state IN (\(states))),
                  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                  error text,
                  progress double precision NOT NULL DEFAULT 0,
                  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
                  started_at timestamptz, finished_at timestamptz, next_attempt_at timestamptz,
                  output_location text, master_location text, encoder text, manifest text,
                  cancel_requested boolean NOT NULL DEFAULT false,
                  released boolean NOT NULL DEFAULT false)
                """,
                "CREATE INDEX job_on_state_created_at ON job (state, created_at)",
                // One job per file while its source is in the inbox: the same file seen twice is one job.
                """
                CREATE UNIQUE INDEX job_on_source_fingerprint ON job (source_path, device, inode, size, mtime_ns)
                WHERE NOT released
                """,
                "CREATE INDEX job_on_source_path ON job (source_path)",
                """
                CREATE TABLE event (
                  id bigserial PRIMARY KEY,
                  uid text NOT NULL UNIQUE,
                  job_id bigint NOT NULL REFERENCES job ON DELETE CASCADE,
                  type text NOT NULL CHECK (type IN (\(kinds))),
                  payload text NOT NULL,
                  created_at timestamptz NOT NULL)
                """,
                "CREATE INDEX event_on_job_id ON event (job_id)",
                """
                CREATE TABLE effect (
                  id bigserial PRIMARY KEY,
                  job_id bigint NOT NULL REFERENCES job ON DELETE CASCADE,
                  kind text NOT NULL CHECK (kind IN (\(effects))),
                  source text NOT NULL, target text,
                  device bigint NOT NULL, inode bigint NOT NULL,
                  note text,
                  created_at timestamptz NOT NULL, done_at timestamptz)
                """,
                "CREATE INDEX effect_on_job_id ON effect (job_id)",
            ]),
            // The webhook queue (the daemon's Notify layer reads and writes it): endpoints, one delivery per (event,
            // endpoint) inserted by a trigger in the transaction that records the event, and the node that sends each
            // endpoint's queue now (`sender`, held until `sender_until`), so that one node at a time sends it, in order.
            ("v2-webhook-deliveries", [
                """
                CREATE TABLE webhook_endpoint (
                  id bigserial PRIMARY KEY,
                  url text NOT NULL UNIQUE,
                  events text NOT NULL,
                  active boolean NOT NULL DEFAULT true,
                  updated_at timestamptz NOT NULL,
                  sender text, sender_until timestamptz)
                """,
                """
                CREATE TABLE delivery (
                  id bigserial PRIMARY KEY,
                  event_id bigint NOT NULL REFERENCES event ON DELETE CASCADE,
                  endpoint_id bigint NOT NULL REFERENCES webhook_endpoint ON DELETE CASCADE,
                  state text NOT NULL CHECK (state IN ('pending','delivered','failed')),
                  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                  next_at timestamptz NOT NULL, window_started_at timestamptz NOT NULL, created_at timestamptz NOT NULL,
                  last_attempt_at timestamptz, last_status integer, last_error text, delivered_at timestamptz,
                  UNIQUE (event_id, endpoint_id))
                """,
                "CREATE INDEX delivery_on_endpoint_state_event ON delivery (endpoint_id, state, event_id)",
                "CREATE INDEX delivery_on_state ON delivery (state, id)",
                """
                CREATE FUNCTION event_fans_out_to_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO delivery (event_id, endpoint_id, state, attempts, next_at, window_started_at, created_at)
                  SELECT NEW.id, e.id, 'pending', 0, NEW.created_at, NEW.created_at, NEW.created_at
                  FROM webhook_endpoint e
                  WHERE e.active AND position(',' || NEW.type || ',' IN e.events) > 0;
                  RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER event_fans_out_to_webhooks AFTER INSERT ON event
                FOR EACH ROW EXECUTE FUNCTION event_fans_out_to_webhooks()
                """,
            ]),
            // The name a move chose when its preferred one was taken (FileEffect.placed).
            ("v3-effect-placed", ["ALTER TABLE effect ADD COLUMN placed text"]),
            // Event pruning keeps an event while one of its deliveries is pending.
            ("v4-webhook-pending-keeps-event", [
                """
                CREATE FUNCTION event_kept_while_delivery_pending() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF EXISTS (SELECT 1 FROM delivery WHERE delivery.event_id = OLD.id AND delivery.state = 'pending') THEN
                    RETURN NULL;
                  END IF;
                  RETURN OLD;
                END $$
                """,
                """
                CREATE TRIGGER event_kept_while_delivery_pending BEFORE DELETE ON event
                FOR EACH ROW EXECUTE FUNCTION event_kept_while_delivery_pending()
                """,
            ]),
            // Speed and ETA of a running job.
            ("v5-job-speed-eta", ["ALTER TABLE job ADD COLUMN speed double precision, ADD COLUMN eta_seconds double precision"]),
            // A video's sidecars and its metadata, recorded with the job.
            ("v6-sidecars", [
                "ALTER TABLE job ADD COLUMN metadata text",
                """
                CREATE TABLE sidecar (
                  job_id bigint NOT NULL REFERENCES job ON DELETE CASCADE,
                  name text NOT NULL CHECK (length(name) > 0),
                  format text NOT NULL CHECK (format IN ('json', 'srt', 'vtt')),
                  language text,
                  bytes bigint NOT NULL, device bigint NOT NULL, inode bigint NOT NULL, mtime_ns bigint NOT NULL,
                  error text,
                  PRIMARY KEY (job_id, name))
                """,
            ]),
            // Nodes and leases: who runs a job, under which lease token, until when; and each node's heartbeat.
            ("v7-nodes-leases", [
                "ALTER TABLE job ADD COLUMN node text, ADD COLUMN lease_token bigint, ADD COLUMN lease_expires_at timestamptz",
                """
                CREATE TABLE node (
                  name text PRIMARY KEY CHECK (length(name) > 0),
                  version text NOT NULL,
                  encoder text,
                  lease_seconds double precision NOT NULL,
                  started_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL, stopped_at timestamptz)
                """,
            ]),
            // The node that carries out a file effect, until when (one node per effect; another once that claim ran out).
            ("v8-effect-claims", ["ALTER TABLE effect ADD COLUMN claimed_by text, ADD COLUMN claimed_until timestamptz"]),
            // One job per file version however many nodes see it: a node's device number for the share is its own.
            ("v9-fingerprint-without-device", [
                "DROP INDEX job_on_source_fingerprint",
                "CREATE UNIQUE INDEX job_on_source_fingerprint ON job (source_path, inode, size, mtime_ns) WHERE NOT released",
            ]),
        ]
    }()

    /// The key of the transaction-level advisory lock that migrations run under ("watchfld"): nodes starting at
    /// once migrate one after the other, and all but the first find nothing left to do.
    static let migrationLock: Int64 = 0x7761_7463_6866_6C64

    /// Applies the migrations not applied yet, in one transaction under ``migrationLock``.
    /// - Throws: ``StoreError`` `newerSchema` when the database has a migration this binary does not know (a newer
    ///   watchfolder migrated it); ``PostgresStoreError`` when the server refuses a statement.
    static func migrate(_ session: PostgresSession, migrations: [(identifier: String, statements: [String])] = migrations)
        async throws -> [String] {
        try await session.write("migrating the schema", deadline: nil) { db in
            try await db.run("SELECT pg_advisory_xact_lock(\(migrationLock))")
            try await db.run("CREATE TABLE IF NOT EXISTS schema_migrations (identifier text PRIMARY KEY)")
            var applied = Set<String>()
            for row in try await db.rows("SELECT identifier FROM schema_migrations") {
                applied.insert(try row.decode(String.self))
            }
            let known = Set(migrations.map(\.identifier))
            if let unknown = applied.subtracting(known).sorted().first {
                throw StoreError(code: .newerSchema, message: "the job store \(session.location.redacted) has migration \(unknown), written by a newer watchfolder; this one (\(WatchFolderVersion.string)) knows \(migrations.count) migrations up to \(migrations.last?.identifier ?? "none"): upgrade it before it uses this store")
            }
            var done: [String] = []
            for migration in migrations where !applied.contains(migration.identifier) {
                for statement in migration.statements { try await db.run(PostgresQuery(unsafeSQL: statement)) }
                try await db.run("INSERT INTO schema_migrations (identifier) VALUES (\(migration.identifier))")
                done.append(migration.identifier)
            }
            return done
        }
    }
}
