import Foundation
import GRDB
import Testing
import WatchFolder

/// A fresh temporary folder, removed after `body`.
func withTempDir<T>(_ body: (URL) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try await body(dir)
}

func file(_ path: String, inode: UInt64 = 1, size: Int64 = 100, mtime: Int64 = 1) -> InboxFile {
    InboxFile(relativePath: path, fingerprint: Fingerprint(device: 7, inode: inode, size: size, mtimeNanoseconds: mtime))
}

func eventTypes(_ store: SQLiteJobStore, job: Int64) async throws -> [String] {
    try await store.pool.read { db in
        try String.fetchAll(db, sql: "SELECT type FROM event WHERE job_id = ? ORDER BY id", arguments: [job])
    }
}

/// Holds a read transaction open on `reader` while `writer` commits an update; returns the job count and the
/// number of updated rows the reader saw (snapshot isolation: none).
func readWhileWriting(reader: DatabasePool, writer: DatabasePool) throws -> (Int, Int) {
    try reader.read { db -> (Int, Int) in
        let before = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job") ?? -1
        try writer.write { db in try db.execute(sql: "UPDATE job SET progress = 0.5") }
        let during = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job WHERE progress = 0.5") ?? -1
        return (before, during)
    }
}

@Suite struct StoreTests {
    @Test func schemaIsMigratedInWALModeWithInvariants() async throws {
        try await withTempDir { dir in
            let url = dir.appendingPathComponent("db.sqlite")
            let store = try SQLiteJobStore(url: url)
            let mode = try await store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            // FULL: every commit is synced before it returns (nothing told to the world is taken back by a power cut).
            #expect(try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
            let applied = try await store.pool.read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
            #expect(applied == ["v1-jobs-events-effects", "v3-effect-placed", "v5-job-speed-eta", "v6-sidecars", "v7-nodes-leases"])
            // The webhook tables are Notify's, added through the store's migrator when first opened.
            _ = try WebhookQueue(store: store)
            let withWebhooks = try await store.pool.read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            }
            #expect(withWebhooks == ["v1-jobs-events-effects", "v2-webhook-deliveries", "v3-effect-placed",
                                     "v4-webhook-pending-keeps-event", "v5-job-speed-eta", "v6-sidecars", "v7-nodes-leases"])
            // Reopening migrates nothing twice.
            _ = try SQLiteJobStore(url: url)
            // The schema refuses an unknown state.
            await #expect(throws: DatabaseError.self) {
                try await store.pool.write { db in
                    try db.execute(sql: """
                        INSERT INTO job (source_path, device, inode, size, mtime_ns, state, created_at, updated_at)
                        VALUES ('a.mp4', 1, 1, 1, 1, 'exploded', '2026-01-01', '2026-01-01')
                        """)
                }
            }
        }
    }

    @Test(arguments: Backend.allCases) func theSameFileSeenTwiceIsOneJob(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let first = try await store.enqueue([file("a.mp4"), file("b/c.mov", inode: 2)])
            #expect(first.count == 2)
            // A rescan and a duplicate event: nothing new.
            let again = try await store.enqueue([file("a.mp4"), file("b/c.mov", inode: 2), file("a.mp4")])
            #expect(again.isEmpty)
            #expect(try await store.counts()[.queued] == 2)
            #expect(try await eventTypes(of: first[0].id!, in: store) == ["job.queued"])
        }
    }

    /// Nodes of a cluster mounting one share see it under device numbers of their own (and a host may renumber a
    /// filesystem after a reboot): the same path, inode, size and modification time is the same file, one job, and
    /// it still counts as the recorded file when it is opened (``Fingerprint/isVersion``).
    static func seen(_ device: UInt64) -> InboxFile {
        InboxFile(relativePath: "a.mp4", fingerprint: Fingerprint(device: device, inode: 5, size: 100, mtimeNanoseconds: 9))
    }

    @Test(arguments: Backend.allCases) func theSameFileSeenUnderAnotherDeviceNumberIsOneJob(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let first = [Self.seen(41)], again = [Self.seen(42), Self.seen(43)]
            let created = try await store.enqueue(first)
            // Running on the node that recorded it (a queued job would only follow a replaced file).
            _ = try #require(try await store.claimNext(now: Date()))
            let recreated = try await store.enqueue(again)
            #expect(created.count == 1 && recreated.isEmpty)
            let counts = try await store.counts()
            #expect(counts[.running] == 1 && counts[.queued] == 0)
            let other = again[0].fingerprint
            #expect(other.isVersion(inode: 5, size: 100, mtimeNanoseconds: 9))
            #expect(!other.isVersion(inode: 6, size: 100, mtimeNanoseconds: 9))
            #expect(!other.isVersion(inode: 5, size: 100, mtimeNanoseconds: 10))
        }
    }

    @Test(arguments: Backend.allCases) func aFileReplacedWhileQueuedIsRefingerprinted(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let job = try #require(try await store.enqueue([file("a.mp4", size: 10)]).first)
            let created = try await store.enqueue([file("a.mp4", inode: 9, size: 20, mtime: 5)])
            #expect(created.isEmpty)
            let updated = try #require(try await store.job(job.id!))
            #expect(updated.size == 20 && updated.inode == 9 && updated.mtimeNs == 5)
            #expect(try await store.counts()[.queued] == 1)
        }
    }

    @Test(arguments: Backend.allCases) func aFileDroppedAgainAfterItsJobFinishedIsANewJob(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let job = try #require(try await store.enqueue([file("a.mp4")]).first)
            _ = try await store.claimNext(now: Date())
            try await store.transition(job.id!, .publishing(location: "/out/a", encoder: "libx264", manifest: nil))
            let archive = PlannedEffect(.archive, source: dir.appendingPathComponent("in/a.mp4"),
                                        target: dir.appendingPathComponent("archive/a.mp4"))
            try await store.transition(job.id!, .completed(location: "/out/a", master: "/out/a/master.m3u8", effect: archive))
            // Still in the inbox until the archive move is carried out: seen again then, it is the same job.
            #expect(try await store.enqueue([file("a.mp4")]).isEmpty)
            for effect in try await store.pendingEffects(job: job.id!) { try await store.markEffectDone(effect.id!) }
            // The very same bytes (same inode, even) dropped again after being archived: a new job.
            let again = try await store.enqueue([file("a.mp4")])
            #expect(again.count == 1)
            #expect(again.first?.id != job.id)
        }
    }

    @Test(arguments: Backend.allCases) func aKeptSourceSeenAgainAfterCompletionIsNotANewJob(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let job = try #require(try await store.enqueue([file("a.mp4")]).first)
            _ = try await store.claimNext(now: Date())
            try await store.transition(job.id!, .publishing(location: "/out/a", encoder: nil, manifest: nil))
            try await store.transition(job.id!, .completed(location: "/out/a", master: nil, effect: nil))
            #expect(try await store.enqueue([file("a.mp4")]).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func claimIsFIFOCountsAttemptsAndRespectsBackoff(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            _ = try await store.enqueue([file("1.mp4", inode: 1)])
            _ = try await store.enqueue([file("2.mp4", inode: 2)])
            let a = try #require(try await store.claimNext(now: Date()))
            #expect(a.sourcePath == "1.mp4" && a.state == .running && a.attempts == 1)
            try await store.transition(a.id!, .retry(error: "boom", encoder: "libx264", delay: 60))
            let b = try #require(try await store.claimNext(now: Date()))
            #expect(b.sourcePath == "2.mp4")
            #expect(try await store.claimNext(now: Date()) == nil)  // 1.mp4 waits for its backoff
            let again = try #require(try await store.claimNext(now: Date().addingTimeInterval(61)))
            #expect(again.id == a.id && again.attempts == 2 && again.error == "boom")
            #expect(try await eventTypes(of: a.id!, in: store) == ["job.queued", "job.started", "job.retrying", "job.started"])
        }
    }

    @Test(arguments: Backend.allCases) func transitionsWriteEventsAndEffectsInTheSameTransaction(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let job = try #require(try await store.enqueue([file("x.mp4")]).first)
            let id = job.id!
            // An invalid transition changes nothing: no event, no effect.
            await #expect(throws: StoreError.self) {
                try await store.transition(id, .completed(location: "/o", master: nil,
                                                          effect: PlannedEffect(.delete, source: dir)))
            }
            #expect(try await store.pendingEffects(job: id).isEmpty)
            #expect(try await eventTypes(of: id, in: store) == ["job.queued"])

            _ = try await store.claimNext(now: Date())
            let fail = PlannedEffect(.fail, source: dir.appendingPathComponent("in/x.mp4"),
                                     target: dir.appendingPathComponent("failed/x.mp4"), note: "bad")
            let failed = try await store.transition(id, .failed(error: "no video stream", encoder: "libx264", effect: fail))
            #expect(failed.state == .failed && failed.released)
            let effects = try await store.pendingEffects(job: id)
            #expect(effects.map(\.kind) == [.fail])
            #expect(effects.first?.note == "bad")
            let events = try await store.events(after: 0, limit: 100).filter { $0.jobId == id }
            #expect(events.map(\.type) == [.queued, .started, .failed])
            let payload = try #require(events.last?.payload)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
            #expect(object["error"] as? String == "no video stream")
            #expect(object["state"] as? String == "failed")
            #expect(object["source"] as? String == "x.mp4")
            #expect(Set(events.map(\.uid)).count == 3)
            // A job with a pending effect is not claimed after `retry` until its source is back.
            try await store.transition(id, .retried(effect: PlannedEffect(.restore, source: dir, target: dir)))
            #expect(try await store.claimNext(now: Date()) == nil)
            for effect in try await store.pendingEffects(job: id) { try await store.markEffectDone(effect.id!) }
            let reclaimed = try #require(try await store.claimNext(now: Date()))
            #expect(reclaimed.id == id && reclaimed.attempts == 1)
        }
    }

    @Test(arguments: Backend.allCases) func cancelIsImmediateWhenQueuedAndFlaggedWhenRunning(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let jobs = try await store.enqueue([file("q.mp4", inode: 1), file("r.mp4", inode: 2)])
            let running = try #require(try await store.claimNext(now: Date()))
            #expect(running.id == jobs[0].id)
            let flagged = try await store.requestCancel(running.id!)
            #expect(flagged.state == .running && flagged.cancelRequested)
            #expect(try await store.cancelRequests() == [running.id!])
            let cancelled = try await store.requestCancel(jobs[1].id!)
            #expect(cancelled.state == .cancelled)
            await #expect(throws: StoreError.self) { try await store.requestCancel(jobs[1].id!) }
            let counts = try await store.counts()
            #expect(counts[.running] == 1 && counts[.cancelled] == 1 && counts[.completed] == 0)
        }
    }

    @Test func theCLIAndTheDaemonShareTheDatabase() async throws {
        try await withTempDir { dir in
            let url = dir.appendingPathComponent("db.sqlite")
            let daemon = try SQLiteJobStore(url: url)
            let cli = try SQLiteJobStore(url: url)
            _ = try await daemon.enqueue([file("v.mp4")])
            // A reader holds a snapshot open while the daemon commits: neither blocks the other.
            let (before, during) = try readWhileWriting(reader: cli.pool, writer: daemon.pool)
            #expect(before == 1 && during == 0)
            #expect(try await cli.list(state: .queued, limit: 10).map(\.progress) == [0.5])
        }
    }
}
