import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct WebhookDaemonTests {
    /// A real job: the daemon is killed (-9) while `job.completed` is in flight; after the restart the receiver
    /// has exactly one `job.completed` id, and the payload points at the published package.
    @Test func killNineBetweenCompletionAndDeliveryOfARealJob() async throws {
        try await withTemporaryDirectory { dir in
            let secret = try await watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let receiver = try await WebhookReceiver(secret: secret, in: dir, hangType: "job.completed", hangCount: 1)
            let f = try DaemonFolders(root: dir, extra: "[[webhook]]\nurl = \"\(receiver.url)\"\nsecret = \"\(secret)\"\n")
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("a.mp4"))
            try await waitUntil("job.completed reached the receiver", timeout: 120) {
                receiver.received().contains { $0.type == "job.completed" }
            }
            await daemon.stop(SIGKILL)
            #expect(try await sql(f.database, "SELECT d.state FROM delivery d JOIN event e ON e.id = d.event_id WHERE e.type = 'job.completed'") == [["pending"]])

            let restarted = try await DaemonProcess.start(config: f.config)
            try await waitUntil("job.completed delivered after the restart", timeout: 60) {
                receiver.received().contains { $0.type == "job.completed" && $0.answered == 200 }
            }
            let all = receiver.received()
            #expect(all.allSatisfy { $0.verified })
            let completed = all.filter { $0.type == "job.completed" }
            #expect(Set(completed.map(\.id)).count == 1)
            #expect(completed.map(\.answered) == [0, 200])
            let storedID = try await sql(f.database, "SELECT uid FROM event WHERE type = 'job.completed'")
            #expect(storedID == [[completed.first?.id ?? ""]])
            let accepted = all.filter { $0.answered == 200 }.compactMap(\.type)
            #expect(accepted == ["job.queued", "job.started", "job.completed"])

            let body = try #require(all.last { $0.type == "job.completed" }).body
            let data = try #require(body["data"] as? [String: Any])
            #expect(data["state"] as? String == "completed")
            #expect(data["source_name"] as? String == "a.mp4")
            #expect(data["encoder"] as? String == "libx264")
            #expect((data["renditions"] as? [String])?.isEmpty == false)
            let master = try #require(data["master"] as? String)
            #expect(master == f.outbox.appendingPathComponent("a/master.m3u8").path)
            #expect(FileManager.default.fileExists(atPath: master))
            for key in ["thumbnail", "poster"] {
                let path = try #require(data[key] as? String, "\(key)")
                #expect(FileManager.default.fileExists(atPath: path), "\(key): \(path)")
            }
            #expect((data["manifest"] as? [String: Any])?["renditions"] != nil)
            let durations = try #require(data["durations"] as? [String: Any])
            #expect(durations["processing_seconds"] as? Double != nil && durations["media_seconds"] as? Double != nil)
            #expect(await restarted.stop(SIGTERM) == 0)
        }
    }

    /// The receiver is down during a real job and comes up after a daemon restart: it gets every event once, in
    /// order. Then `webhooks --json` shows them delivered and `webhooks resend` sends one again (same id, new
    /// timestamp and signature).
    @Test func aReceiverDownDuringTheJobGetsEveryEventOnceAfterARestart() async throws {
        try await withTemporaryDirectory { dir in
            let secret = try await watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let port = try await WebhookReceiver(secret: secret, in: dir).port  // free now: nothing listens
            let url = "http://127.0.0.1:\(port)/hooks"
            let f = try DaemonFolders(root: dir, extra: "[[webhook]]\nurl = \"\(url)\"\nsecret = \"\(secret)\"\n")
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("a.mp4"))
            try await waitUntil("the job completed, its events tried", timeout: 120) {
                guard try await states(f.config) == ["a.mp4": "completed"] else { return false }
                return try await sql(f.database, "SELECT COUNT(*) FROM delivery WHERE attempts > 0") != [["0"]]
            }
            #expect(await daemon.stop(SIGTERM) == 0)
            let pending = try await sql(f.database, "SELECT state, COUNT(*) FROM delivery GROUP BY state")
            #expect(pending == [["pending", "3"]])
            let lastError = try await sql(f.database, "SELECT last_error FROM delivery WHERE attempts > 0 LIMIT 1")
            #expect(lastError.first?.first?.contains("Couldn't connect") == true, "\(lastError)")

            // The head's next try is due 5 s after its first failed attempt, 30 s after a second, 2 min after a
            // third (a job slowed by a loaded machine fails more than once): wait for the head's stored time, not a
            // guess. (Only the head was tried; the deliveries queued behind it wait for it, whatever their own time.)
            let due = try await sql(f.database, """
                SELECT CAST(MAX(0, julianday(next_at) - julianday('now')) * 86400 AS INTEGER)
                FROM delivery WHERE state = 'pending' AND attempts > 0
                """)
            let dueIn = try #require(due.first?.first.flatMap { Double($0) }, "\(due)")
            let receiver = try await WebhookReceiver(secret: secret, in: dir, port: port)
            let restarted = try await DaemonProcess.start(config: f.config)
            try await waitUntil("every event delivered after the restart (head due in \(Int(dueIn)) s)",
                                timeout: dueIn + 60) { receiver.received().count >= 3 }
            try await Task.sleep(for: .milliseconds(300))
            let all = receiver.received()
            // job.progress is opt-in: recorded (when the tiny job reported a step before it ended) but not sent here.
            let stored = try await sql(f.database, "SELECT uid FROM event WHERE type != 'job.progress' ORDER BY id").map { $0[0] }
            #expect(all.map(\.id) == stored)  // each once, in order
            #expect(all.map(\.type) == ["job.queued", "job.started", "job.completed"])
            #expect(all.allSatisfy { $0.verified && $0.answered == 200 })

            let list = try await watchfolder("webhooks", "--json", "--config", f.config.path)
            #expect(list.status == 0, "\(list.stderr)")
            struct Row: Decodable { var id: Int; var webhook_id: String; var state: String; var url: String; var attempts: Int }
            let rows = try JSONDecoder().decode([Row].self, from: Data(list.stdout.utf8))
            #expect(rows.map(\.webhook_id) == stored.reversed())
            #expect(rows.allSatisfy { $0.state == "delivered" && $0.url == url })
            // Only the head of the queue was tried while the receiver was down; the others waited behind it.
            #expect(rows.map(\.attempts).last ?? 0 >= 2)
            #expect(rows.dropLast().allSatisfy { $0.attempts == 1 })
            let delivered = try await watchfolder("webhooks", "--state", "delivered", "--config", f.config.path)
            #expect(delivered.stdout.split(separator: "\n").count == 4)  // header + 3

            // A new signature needs a new timestamp: wait until the unix second has moved on.
            let sent = try #require(receiver.received().compactMap { Int64($0.timestamp) }.max())
            try await waitUntil("the next unix second", timeout: 5) { Int64(Date().timeIntervalSince1970) > sent }
            let completed = try #require(rows.first)
            let resend = try await watchfolder("webhooks", "resend", "\(completed.id)", "--config", f.config.path)
            #expect(resend.status == 0, "\(resend.stderr)")
            #expect(resend.stdout.contains(completed.webhook_id))
            try await waitUntil("the resent event arrived", timeout: 20) { receiver.received().count == 4 }
            let again = receiver.received()
            #expect(again[3].id == again[2].id)
            #expect(again[3].verified && again[3].timestamp != again[2].timestamp && again[3].signature != again[2].signature)
            #expect(await restarted.stop(SIGTERM) == 0)
        }
    }
}
