import Foundation
import GRDB
import Pipeline
import Testing
@testable import WatchFolder

@Suite struct WebhookQueueTests {
    /// Deliveries are written by the event's own insert: same transaction as the job transition.
    @Test func deliveriesCommitWithTheTransitionThatCausesThem() async throws {
        try await withTempDir { dir in
            let url = dir.appendingPathComponent("db.sqlite")
            let store = try SQLiteJobStore(url: url)
            let queue = try WebhookQueue(store: store)
            let ids = try await queue.register([webhookConfig("http://a.example/hook"),
                                           webhookConfig("http://b.example/hook", events: ["job.completed"])])
            let job = try #require(try await store.enqueue([file("a.mp4")]).first?.id)
            var rows = try await deliveries(store)
            #expect(rows.map(\.url) == ["http://a.example/hook"])
            #expect(rows[0].delivery.state == .pending && rows[0].delivery.attempts == 0)

            // A transition that fails leaves neither event nor delivery.
            await #expect(throws: StoreError.self) {
                try await store.transition(job, .completed(location: "x", master: nil, effect: nil))
            }
            #expect(try await deliveries(store).count == 1)

            // A rolled-back transaction takes its deliveries with it.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await store.pool.write { db in
                    try db.execute(sql: """
                        INSERT INTO event (uid, job_id, type, payload, created_at) VALUES ('evt_x', ?, 'job.completed', '{}', ?)
                        """, arguments: [job, Date()])
                    #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery") == 3)
                    throw Abort()
                }
            }
            #expect(try await deliveries(store).count == 1)

            // An endpoint no longer configured gets no new deliveries; back again, it keeps its identity (URL).
            try await queue.register([webhookConfig("http://b.example/hook", events: ["job.queued"])])
            _ = try await store.enqueue([file("b.mp4", inode: 2)])
            rows = try await deliveries(store)
            #expect(rows.map(\.url) == ["http://a.example/hook", "http://b.example/hook"])
            let again = try await queue.register([webhookConfig("http://a.example/hook")])
            #expect(again["http://a.example/hook"] == ids["http://a.example/hook"])

            // Pending deliveries survive a reopen of the file (a restart).
            let reopened = try SQLiteJobStore(url: url)
            #expect(try await WebhookQueue(store: reopened).list(state: .pending).count == 2)
        }
    }

    /// The head of an endpoint's queue is its oldest pending delivery, due or not: later ones wait behind it.
    @Test func theQueueHoldsBehindAPendingDelivery() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let queue = try WebhookQueue(store: store)
            let endpoint = try #require(try await queue.register([webhookConfig("http://a.example/hook")]).values.first)
            _ = try await store.enqueue([file("a.mp4", inode: 1), file("b.mp4", inode: 2)])
            let first = try #require(try await queue.head(endpoint: endpoint))
            let later = Date().addingTimeInterval(3600)
            try await queue.markAttemptFailed(first.delivery.id, status: 503, error: "HTTP 503", next: later)
            let head = try #require(try await queue.head(endpoint: endpoint))
            #expect(head.delivery.id == first.delivery.id)
            #expect(head.delivery.attempts == 1 && head.delivery.lastStatus == 503)
            #expect(abs(head.delivery.nextAt.timeIntervalSince(later)) < 0.01)
            try await queue.markAttemptFailed(first.delivery.id, status: nil, error: "gave up", next: nil)
            let next = try #require(try await queue.head(endpoint: endpoint))
            #expect(next.delivery.id != first.delivery.id)
            #expect(try await queue.list(state: .failed).map(\.delivery.id) == [first.delivery.id])
        }
    }

    @Test func retryScheduleAndWindow() {
        let policy = WebhookRetryPolicy(scale: 1, jitter: 0)
        #expect((1...9).map { policy.delay(afterAttempts: $0) } == [5, 30, 120, 600, 1800, 3600, 7200, 7200, 7200])
        // Attempts until 24 h after creation, then failed.
        let start = Date(timeIntervalSince1970: 1_000_000)
        var now = start
        var attempts = 0
        while let next = policy.nextAttempt(afterAttempts: attempts + 1, now: now, windowStart: start) {
            attempts += 1
            now = next
        }
        #expect(now.timeIntervalSince(start) <= 24 * 3600)
        #expect(now.timeIntervalSince(start) > 22 * 3600)
        #expect(attempts == 17)  // 6 ramp-up delays (6155 s) + 11 two-hour waits
        // Jitter stays within ±10 %.
        let jittered = WebhookRetryPolicy(scale: 1)
        for _ in 0..<200 {
            let next = try! #require(jittered.nextAttempt(afterAttempts: 2, now: start, windowStart: start))
            #expect((27...33).contains(next.timeIntervalSince(start)))
        }
        #expect(WebhookRetryPolicy.fromEnvironment([WebhookRetryPolicy.scaleVariable: "0.01"]).scale == 0.01)
        #expect(WebhookRetryPolicy.fromEnvironment([:]).scale == 1)
        #expect(WebhookRetryPolicy.fromEnvironment([WebhookRetryPolicy.scaleVariable: "-3"]).scale == 1)
    }

    /// The body depends only on stored rows: every retry sends the same bytes. URLs keep their scheme.
    @Test func bodyIsStableAndJoinsURLs() throws {
        var payload = JobPayload(Job(sourcePath: "in/a.mp4", device: 1, inode: 1, size: 1, mtimeNs: 1))
        payload.state = "completed"
        payload.master = "https://cdn.example.com/videos/a/master.m3u8"
        let event = JobEvent(id: 7, uid: "evt_1", jobId: 1, type: .completed, payload: payload.json(),
                             createdAt: Date(timeIntervalSince1970: 1_764_000_000.5))
        let body = WebhookMessage.body(for: event, manifest: sampleManifest)
        #expect(body == WebhookMessage.body(for: event, manifest: sampleManifest))
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(object["type"] as? String == "job.completed")
        #expect(object["timestamp"] as? String == "2025-11-24T16:00:00.500Z")
        let data = try #require(object["data"] as? [String: Any])
        #expect(data["thumbnail"] as? String == "https://cdn.example.com/videos/a/thumbnails/thumb_01.jpg")
        #expect(data["poster"] as? String == "https://cdn.example.com/videos/a/poster.jpg")
        #expect(data["source_name"] as? String == "a.mp4")
        // Other events carry no manifest.
        var started = event
        started.type = .started
        let other = try #require(try JSONSerialization.jsonObject(with: WebhookMessage.body(for: started, manifest: sampleManifest)) as? [String: Any])
        #expect((other["data"] as? [String: Any])?["manifest"] == nil)
    }

    /// `data` is the recorded job plus the webhook's fields; `manifest` is the stored one verbatim: keys the daemon
    /// does not know, integers and nulls included, and a field of an unexpected type hides none of the others.
    @Test func bodyCarriesTheJobAndTheManifestVerbatim() throws {
        var payload = JobPayload(Job(sourcePath: "in/a.mp4", device: 1, inode: 1, size: 1, mtimeNs: 1))
        payload.state = "completed"
        payload.master = "/out/a/master.m3u8"
        payload.durationSeconds = 3.25
        let event = JobEvent(id: 7, uid: "evt_1", jobId: 1, type: .completed, payload: payload.json(),
                             createdAt: Date(timeIntervalSince1970: 1_764_000_000))
        let manifest = #"{"durationSeconds":2.5,"thumbnails":["t/1.jpg"],"poster":5,"bytes":9007199254740993,"#
            + #""renditions":[{"name":"360p","width":"wide"},{"height":240}],"#
            + #""custom":{"n":3,"list":[1,2.5,"s",null,true]},"timings":{"transcodeSeconds":1.5}}"#
        let body = WebhookMessage.body(for: event, manifest: manifest)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let data = try #require(object["data"] as? [String: Any])
        #expect(Set(data.keys) == ["id", "source", "state", "attempts", "progress", "master", "duration_seconds",
                                   "created_at", "source_name", "durations", "thumbnail", "manifest", "node"])
        #expect(data["node"] is NSNull, "null: the payload's job has no node")
        #expect(ManifestView(json: manifest)?.renditionNames == ["360p", "240p"])
        #expect(data["thumbnail"] as? String == "/out/a/t/1.jpg" && data["poster"] == nil)
        let durations = try #require(data["durations"] as? [String: Any])
        #expect(durations as NSDictionary == ["processing_seconds": 3.25, "media_seconds": 2.5, "transcode_seconds": 1.5])
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])
        #expect(data["manifest"] as? NSDictionary == stored as NSDictionary)
        #expect(String(decoding: body, as: UTF8.self).contains(#""bytes":9007199254740993"#))
    }

    /// `job.progress`: one per 10 % step, or after 30 s without one when the job moved (slow encodes).
    @Test func progressIsReportedPerTenPercentOrEveryThirtySeconds() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let id = try #require(try await store.enqueue([file("a.mp4")]).first?.id)
            _ = try #require(try await store.claimNext(now: Date()))
            func progressEvents() async throws -> Int { try await eventTypes(store, job: id).filter { $0 == "job.progress" }.count }
            // Started "in an hour": these small moves stay under the 30 s heartbeat however long a loaded machine
            // keeps this task waiting between them.
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE job SET started_at = ? WHERE id = ?", arguments: [Date().addingTimeInterval(3600), id])
            }
            for step in 1...9 { try await store.updateProgress(id, fraction: Double(step) / 1000) }
            #expect(try await progressEvents() == 0)
            // 31 s since the start without a report: the next move is reported, the one after it is not.
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE job SET started_at = ? WHERE id = ?", arguments: [Date().addingTimeInterval(-31), id])
            }
            try await store.updateProgress(id, fraction: 0.011)
            try await store.updateProgress(id, fraction: 0.012)
            #expect(try await progressEvents() == 1)
            // 31 s since that report, but no movement: nothing.
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE event SET created_at = ? WHERE type = 'job.progress'", arguments: [Date().addingTimeInterval(-31)])
            }
            try await store.updateProgress(id, fraction: 0.012)
            #expect(try await progressEvents() == 1)
            try await store.updateProgress(id, fraction: 0.013)
            #expect(try await progressEvents() == 2)
            // A 10 % step is reported at once.
            try await store.updateProgress(id, fraction: 0.1)
            #expect(try await progressEvents() == 3)
            try await store.updateProgress(id, fraction: 0.15)
            #expect(try await progressEvents() == 3)
        }
    }
}
