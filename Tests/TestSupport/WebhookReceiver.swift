public import Foundation

/// A request as the Python receiver (`Tests/Peers/webhook_receiver.py`) logged it, after verifying it with the
/// public `standardwebhooks` library.
public struct ReceivedWebhook {
    public var id: String
    public var timestamp: String
    public var signature: String
    public var type: String?
    public var verified: Bool
    /// 200, 503, 400 (not verified) or 0 (held without an answer).
    public var answered: Int
    public var userAgent: String?
    public var contentType: String?
    /// The payload (empty when it did not verify).
    public var body: [String: Any]
    public var data: [String: Any] { body["data"] as? [String: Any] ?? [:] }
}

/// The Python receiver, one process per endpoint, stopped in `deinit`.
public final class WebhookReceiver {
    public let port: Int
    public let log: URL
    public let scheme: String
    public var url: String { "\(scheme)://127.0.0.1:\(port)/hooks" }
    private let process = Process()

    /// Starts a receiver logging to a new file in `dir` and waits until it listens.
    /// - Parameters:
    ///   - port: The port to listen on; 0 for a free one.
    ///   - failFirst: Answer 503 to this many first requests.
    ///   - hangType: Hold the first `hangCount` requests of this event type without answering.
    ///   - tls: A certificate and key file: serve HTTPS (`url` is then `https://`).
    /// - Throws: ``ToolFailure`` when it does not start.
    public init(secret: String, in dir: URL, port: Int = 0, failFirst: Int = 0, hangType: String? = nil,
                hangCount: Int = 0, tls: (cert: URL, key: URL)? = nil) throws {
        scheme = tls == nil ? "http" : "https"
        log = dir.appendingPathComponent("receiver-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
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
            self.port = 0
            stop()
            throw ToolFailure(description: "webhook_receiver.py did not start (is `standardwebhooks` installed? make setup-test): \(text)")
        }
        self.port = port
    }

    deinit { stop() }

    /// SIGKILL (never blocked, unlike SIGTERM in a child spawned from a pool thread), then waits for the exit.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(10_000) }
    }

    /// Every request so far, in arrival order.
    public func received() -> [ReceivedWebhook] {
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
}
