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

/// The Python receiver, one process per endpoint, stopped in `deinit`. It also exits when its standard input
/// closes, so a receiver never outlives a test process that crashed (an orphan holding the test run's output
/// would keep `swift test` waiting forever).
public final class WebhookReceiver {
    public let port: Int
    public let log: URL
    public let scheme: String
    public var url: String { "\(scheme)://127.0.0.1:\(port)/hooks" }
    private let process = ChildProcess()
    private let stdin = Pipe()

    /// Starts a receiver logging to a new file in `dir` and waits (without blocking a thread of the shared pool)
    /// until it listens.
    /// - Parameters:
    ///   - port: The port to listen on; 0 for a free one.
    ///   - failFirst: Answer 503 to this many first requests.
    ///   - hangType: Hold the first `hangCount` requests of this event type without answering.
    ///   - answerAfter: Answer each request this long after it arrived (it is logged on arrival).
    ///   - tls: A certificate and key file: serve HTTPS (`url` is then `https://`).
    /// - Throws: ``ToolFailure`` when it does not start within 60 s.
    public init(secret: String, in dir: URL, port: Int = 0, failFirst: Int = 0, hangType: String? = nil,
                hangCount: Int = 0, answerAfter: Duration? = nil, tls: (cert: URL, key: URL)? = nil) async throws {
        scheme = tls == nil ? "http" : "https"
        let name = "receiver-\(UUID().uuidString)"
        log = dir.appendingPathComponent("\(name).jsonl")
        let out = dir.appendingPathComponent("\(name).out"), err = dir.appendingPathComponent("\(name).err")
        for file in [log, out, err] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", packageRoot.appendingPathComponent("Tests/Peers/webhook_receiver.py").path,
                         "--port", "\(port)", "--secret", secret, "--log", log.path, "--fail-first", "\(failFirst)"]
        if let hangType { arguments += ["--hang-type", hangType, "--hang-count", "\(hangCount)"] }
        if let answerAfter {
            let seconds = Double(answerAfter.components.seconds) + Double(answerAfter.components.attoseconds) / 1e18
            arguments += ["--answer-after", "\(seconds)"]
        }
        if let tls { arguments += ["--tls-cert", tls.cert.path, "--tls-key", tls.key.path] }
        process.arguments = arguments
        process.standardInput = stdin
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        while Date() < deadline && process.isRunning && !text.contains("\n") {
            try await Task.sleep(for: .milliseconds(20))
            text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            self.port = 0
            stop()
            let errors = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            throw ToolFailure(description: "webhook_receiver.py did not start (is `standardwebhooks` installed? make setup-test): "
                              + "\(text) \(errors.split(separator: "\n").suffix(5).joined(separator: " | "))")
        }
        self.port = port
    }

    deinit { stop() }

    /// SIGKILL (never blocked, unlike SIGTERM in a child spawned from a pool thread), then waits for the exit.
    public func stop() {
        try? stdin.fileHandleForWriting.close()
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

    /// Waits (polling the log) until `condition` holds for the requests received, and returns them.
    /// - Throws: ``Timeout`` with what did arrive, after `timeout` seconds.
    @discardableResult
    public func wait(timeout: TimeInterval = 60, _ condition: ([ReceivedWebhook]) -> Bool) async throws -> [ReceivedWebhook] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let all = received()
            if condition(all) { return all }
            guard Date() < deadline else {
                throw Timeout(description: "receiver: condition not met after \(Int(timeout)) s; got \(all.map { "\($0.type ?? "?")=\($0.answered)" })")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
