import Foundation
import TestSupport
import Testing
@testable import WatchFolder

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A request as the Python receiver (`Tests/Peers/webhook_receiver.py`) logged it, after verifying it with the
/// public `standardwebhooks` library.
struct ReceivedWebhook {
    var id: String
    var timestamp: String
    var signature: String
    var type: String?
    var verified: Bool
    /// 200, 503, 400 (not verified) or 0 (held without an answer).
    var answered: Int
    var userAgent: String?
    var contentType: String?
    var body: [String: Any]
    var data: [String: Any] { body["data"] as? [String: Any] ?? [:] }
}

/// The Python receiver, one process per endpoint, stopped in `deinit`.
final class WebhookReceiver {
    let process: Process
    let port: Int
    let log: URL
    let scheme: String
    var url: String { "\(scheme)://127.0.0.1:\(port)/hooks" }

    /// - Parameters:
    ///   - failFirst: Answer 503 to this many first requests.
    ///   - hangType: Hold the first `hangCount` requests of this event type without answering.
    ///   - tls: A certificate and key file: serve HTTPS (`url` is then `https://`).
    init(secret: String, in dir: URL, port: Int = 0, failFirst: Int = 0, hangType: String? = nil,
         hangCount: Int = 0, tls: (cert: URL, key: URL)? = nil) throws {
        scheme = tls == nil ? "http" : "https"
        log = dir.appendingPathComponent("receiver-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", packageRoot.appendingPathComponent("Tests/Peers/webhook_receiver.py").path,
                         "--port", "\(port)", "--secret", secret, "--log", log.path, "--fail-first", "\(failFirst)"]
        if let hangType { arguments += ["--hang-type", hangType, "--hang-count", "\(hangCount)"] }
        if let tls { arguments += ["--tls-cert", tls.cert.path, "--tls-key", tls.key.path] }
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
            process.terminate()
            struct NoPort: Error {}
            throw NoPort()
        }
        self.port = port
    }

    deinit { stop() }

    /// SIGKILL (never blocked, unlike SIGTERM in a child spawned from a pool thread), then waits for the exit.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(10_000) }
    }

    /// Every request so far, in arrival order.
    func received() -> [ReceivedWebhook] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return ReceivedWebhook(id: o["id"] as? String ?? "", timestamp: o["timestamp"] as? String ?? "",
                                   signature: o["signature"] as? String ?? "", type: o["type"] as? String,
                                   verified: o["verified"] as? Bool ?? false, answered: o["answered"] as? Int ?? -1,
                                   userAgent: o["user_agent"] as? String, contentType: o["content_type"] as? String,
                                   body: o["body"] as? [String: Any] ?? [:])
        }
    }

    /// Waits until `condition` holds for the requests received (polling the log), or fails after `timeout`.
    @discardableResult
    func wait(timeout: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
              _ condition: ([ReceivedWebhook]) -> Bool) async throws -> [ReceivedWebhook] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let all = received()
            if condition(all) { return all }
            try await Task.sleep(for: .milliseconds(50))
        }
        let all = received()
        Issue.record("receiver: condition not met after \(timeout) s; got \(all.map { "\($0.type ?? "?")=\($0.answered)" })",
                     sourceLocation: sourceLocation)
        return all
    }
}

/// A webhook endpoint config with a fresh secret.
func webhookConfig(_ url: String, events: [String]? = nil, secret: String = WebhookSigner.generateSecret()) -> Config.Webhook {
    var hook = Config.Webhook(url: url, secret: secret)
    if let events { hook.events = events }
    return hook
}

/// Event uids of the store, oldest first, optionally only those of the given types.
func eventUIDs(_ store: SQLiteJobStore, types: Set<String>? = nil) async throws -> [String] {
    try await store.events(after: 0, limit: 10_000).filter { types?.contains($0.type.rawValue) ?? true }.map(\.uid)
}

/// Drives jobs through the store as the scheduler does: one completed (with a manifest), one retried then failed,
/// one cancelled while queued. Returns the job ids.
@discardableResult
func driveJobs(_ store: SQLiteJobStore, progressSteps: Int = 0) async throws -> (completed: Int64, failed: Int64, cancelled: Int64) {
    let jobs = try await store.enqueue([file("a.mp4", inode: 1), file("b.mp4", inode: 2), file("c.mp4", inode: 3)])
    let (a, b, c) = (jobs[0].id!, jobs[1].id!, jobs[2].id!)
    _ = try await store.requestCancel(c)
    let first = try #require(try await store.claimNext(now: Date()))
    #expect(first.id == a)
    for step in 0..<progressSteps {
        try await store.updateProgress(a, fraction: Double(step + 1) / Double(progressSteps))
    }
    try await store.transition(a, .publishing(location: "/out/a", encoder: "libx264", manifest: sampleManifest))
    try await store.transition(a, .completed(location: "/out/a", master: "/out/a/master.m3u8", effect: nil))
    _ = try #require(try await store.claimNext(now: Date()))
    try await store.transition(b, .retry(error: "decoder exploded", encoder: "libx264", delay: 0))
    _ = try #require(try await store.claimNext(now: Date()))
    try await store.transition(b, .failed(error: "decoder exploded again", encoder: "libx264", effect: nil))
    return (a, b, c)
}

let sampleManifest = """
    {"version":1,"durationSeconds":2.0,"encoder":"libx264","master":"master.m3u8",
     "renditions":[{"name":"360p","height":360},{"name":"240p","height":240}],
     "thumbnails":["thumbnails/thumb_01.jpg"],"poster":"poster.jpg",
     "timings":{"probeSeconds":0.01,"transcodeSeconds":1.5,"packageSeconds":0.1,"totalSeconds":1.61,"speed":1.2}}
    """
