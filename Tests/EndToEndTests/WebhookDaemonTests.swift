import Foundation
import TestSupport
import Testing

/// The Python receiver (`Tests/Peers/webhook_receiver.py`), which verifies every request with the public
/// `standardwebhooks` library and logs it as a JSON line.
final class E2EWebhookReceiver {
    let process = Process()
    let port: Int
    let log: URL
    var url: String { "http://127.0.0.1:\(port)/hooks" }

    init(secret: String, in dir: URL, port: Int = 0, hangType: String? = nil, hangCount: Int = 0) throws {
        log = dir.appendingPathComponent("receiver-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", packageRoot.appendingPathComponent("Tests/Peers/webhook_receiver.py").path,
                         "--port", "\(port)", "--secret", secret, "--log", log.path]
        if let hangType { arguments += ["--hang-type", hangType, "--hang-count", "\(hangCount)"] }
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            kill(process.processIdentifier, SIGKILL)
            throw Timeout(description: "the webhook receiver did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(10_000) }
    }

    /// One logged request.
    struct Request: Decodable {
        var id: String
        var type: String?
        var verified: Bool
        var timestamp: String
        var signature: String
        /// 200, 503, 400 (not verified) or 0 (held without an answer).
        var answered: Int
    }

    /// The logged requests, in arrival order.
    func received() -> [Request] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// The body of the `index`th request.
    func body(_ index: Int) -> [String: Any] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        guard index < lines.count,
              let o = try? JSONSerialization.jsonObject(with: Data(lines[index].utf8)) as? [String: Any] else { return [:] }
        return o["body"] as? [String: Any] ?? [:]
    }
}

@Suite(.serialized) struct WebhookDaemonTests {
    /// A real job: the daemon is killed (-9) while `job.completed` is in flight; after the restart the receiver
    /// has exactly one `job.completed` id, and the payload points at the published package.
    @Test func killNineBetweenCompletionAndDeliveryOfARealJob() async throws {
        try await withTemporaryDirectory { dir in
            let secret = try watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let receiver = try E2EWebhookReceiver(secret: secret, in: dir, hangType: "job.completed", hangCount: 1)
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

            let body = receiver.body(try #require(all.lastIndex { $0.type == "job.completed" }))
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
            let secret = try watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let port = try E2EWebhookReceiver(secret: secret, in: dir).port  // free now: nothing listens
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

            let receiver = try E2EWebhookReceiver(secret: secret, in: dir, port: port)
            let restarted = try await DaemonProcess.start(config: f.config)
            // The first retry is due 5 s after the failed attempt.
            try await waitUntil("every event delivered after the restart", timeout: 60) { receiver.received().count >= 3 }
            try await Task.sleep(for: .milliseconds(300))
            let all = receiver.received()
            let stored = try await sql(f.database, "SELECT uid FROM event ORDER BY id").map { $0[0] }
            #expect(all.map(\.id) == stored)  // each once, in order
            #expect(all.map(\.type) == ["job.queued", "job.started", "job.completed"])
            #expect(all.allSatisfy { $0.verified && $0.answered == 200 })

            let list = try watchfolder("webhooks", "--json", "--config", f.config.path)
            #expect(list.status == 0, "\(list.stderr)")
            struct Row: Decodable { var id: Int; var webhook_id: String; var state: String; var url: String; var attempts: Int }
            let rows = try JSONDecoder().decode([Row].self, from: Data(list.stdout.utf8))
            #expect(rows.map(\.webhook_id) == stored.reversed())
            #expect(rows.allSatisfy { $0.state == "delivered" && $0.url == url })
            // Only the head of the queue was tried while the receiver was down; the others waited behind it.
            #expect(rows.map(\.attempts).last ?? 0 >= 2)
            #expect(rows.dropLast().allSatisfy { $0.attempts == 1 })
            let delivered = try watchfolder("webhooks", "--state", "delivered", "--config", f.config.path)
            #expect(delivered.stdout.split(separator: "\n").count == 4)  // header + 3

            try await Task.sleep(for: .milliseconds(1100))  // the next unix second
            let completed = try #require(rows.first)
            let resend = try watchfolder("webhooks", "resend", "\(completed.id)", "--config", f.config.path)
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
