import GRDB

extension SQLiteJobStore {
    /// The schema this binary writes: the number of migrations of every layer (the store's and Notify's webhook
    /// tables). Add one with every new migration. Kept in `PRAGMA user_version`, so that a binary older than the
    /// schema refuses the store instead of writing it without the columns a newer node relies on.
    static let schemaVersion = 7

    /// Throws ``StoreError`` `newerSchema` when a newer watchfolder has migrated the database at `path`.
    static func checkSchema(_ pool: DatabasePool, path: String) throws {
        let found = try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
        guard found <= schemaVersion else {
            throw StoreError(code: .newerSchema, message: "the job store \(path) has schema version \(found), written by a newer watchfolder; this one (\(WatchFolderVersion.string)) knows version \(schemaVersion): upgrade it before it uses this store")
        }
    }

    /// Versioned, string-named migrations. Never edit a released migration: add a new one (and count it in
    /// ``schemaVersion``).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs-events-effects") { db in
            let states = Job.State.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
            try db.create(table: "job") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("source_path", .text).notNull().check { length($0) > 0 }
                t.column("device", .integer).notNull()
                t.column("inode", .integer).notNull()
                t.column("size", .integer).notNull()
                t.column("mtime_ns", .integer).notNull()
                t.column("state", .text).notNull().check(sql: "state IN (\(states))")
                t.column("attempts", .integer).notNull().defaults(to: 0).check { $0 >= 0 }
                t.column("error", .text)
                t.column("progress", .double).notNull().defaults(to: 0)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("started_at", .datetime)
                t.column("finished_at", .datetime)
                t.column("next_attempt_at", .datetime)
                t.column("output_location", .text)
                t.column("master_location", .text)
                t.column("encoder", .text)
                t.column("manifest", .text)
                t.column("cancel_requested", .boolean).notNull().defaults(to: false)
                t.column("released", .boolean).notNull().defaults(to: false)
            }
            try db.create(index: "job_on_state_created_at", on: "job", columns: ["state", "created_at"])
            // One job per file while its source is in the inbox: the same file seen twice is one job.
            try db.execute(sql: """
                CREATE UNIQUE INDEX job_on_source_fingerprint
                ON job(source_path, device, inode, size, mtime_ns) WHERE released = 0
                """)
            try db.create(index: "job_on_source_path", on: "job", columns: ["source_path"])

            let kinds = JobEvent.Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
            try db.create(table: "event") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("uid", .text).notNull().unique()
                t.column("job_id", .integer).notNull().indexed().references("job", onDelete: .cascade)
                t.column("type", .text).notNull().check(sql: "type IN (\(kinds))")
                t.column("payload", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }

            let effects = FileEffect.Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
            try db.create(table: "effect") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("job_id", .integer).notNull().indexed().references("job", onDelete: .cascade)
                t.column("kind", .text).notNull().check(sql: "kind IN (\(effects))")
                t.column("source", .text).notNull()
                t.column("target", .text)
                t.column("device", .integer).notNull()
                t.column("inode", .integer).notNull()
                t.column("note", .text)
                t.column("created_at", .datetime).notNull()
                t.column("done_at", .datetime)
            }
        }
        // The name a move chose when its preferred one was taken (FileEffect.placed).
        migrator.registerMigration("v3-effect-placed") { db in
            try db.alter(table: "effect") { t in t.add(column: "placed", .text) }
        }
        // Speed and ETA of a running job, from the engine's progress (the status server shows them; it never probes).
        migrator.registerMigration("v5-job-speed-eta") { db in
            try db.alter(table: "job") { t in
                t.add(column: "speed", .double)
                t.add(column: "eta_seconds", .double)
            }
        }
        // A video's sidecars (STEM.json, STEM[.LANG].srt/.vtt) and its metadata, recorded with the job.
        migrator.registerMigration("v6-sidecars") { db in
            try db.alter(table: "job") { t in t.add(column: "metadata", .text) }
            try db.create(table: "sidecar") { t in
                t.column("job_id", .integer).notNull().indexed().references("job", onDelete: .cascade)
                t.column("name", .text).notNull().check { length($0) > 0 }
                t.column("format", .text).notNull().check(sql: "format IN ('json', 'srt', 'vtt')")
                t.column("language", .text)
                t.column("bytes", .integer).notNull()
                t.column("device", .integer).notNull()
                t.column("inode", .integer).notNull()
                t.column("mtime_ns", .integer).notNull()
                t.column("error", .text)
                t.primaryKey(["job_id", "name"])
            }
        }
        // Nodes and leases (README "Several nodes"): who runs a job, under which lease token, until when; and each
        // node's heartbeat.
        migrator.registerMigration("v7-nodes-leases") { db in
            try db.alter(table: "job") { t in
                t.add(column: "node", .text)
                t.add(column: "lease_token", .integer)
                t.add(column: "lease_expires_at", .datetime)
            }
            try db.create(table: "node") { t in
                t.column("name", .text).primaryKey().check { length($0) > 0 }
                t.column("version", .text).notNull()
                t.column("encoder", .text)
                t.column("lease_seconds", .double).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("heartbeat_at", .datetime).notNull()
                t.column("stopped_at", .datetime)
            }
        }
        return migrator
    }
}
