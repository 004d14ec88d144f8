public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real moto_server (`Tests/Peers/moto_server.py`) on a free loopback port with SigV4 signature checking on.
///
/// A test target starts one with ``init()`` and shares it between its S3 tests (each test uses its own bucket).
/// The request log is read per bucket; fault rules apply to every request whose target contains their `match`, so
/// tests that share a peer put their bucket name in it. The peer exits when this process ends (its stdin closes).
public final class MotoPeer: Sendable {
    public struct Keys: Codable, Sendable {
        public var access_key_id: String
        public var secret_access_key: String
        public var session_token: String?
    }
    public struct Ready: Codable, Sendable {
        public var port: Int
        public var endpoint: String
        /// An IAM user's keys (what the uploads sign with), an admin's, and temporary ones with a session token.
        public var user: Keys
        public var admin: Keys
        public var session: Keys
    }
    public struct Object: Codable, Sendable, Equatable {
        public var key: String
        public var size: Int64
        public var etag: String
        public var content_type: String?
        public var cache_control: String?
    }
    public struct Upload: Codable, Sendable {
        public var key: String
        public var upload_id: String
    }
    /// One request seen by the peer: an entry when it started and one when it ended (`event` "start", "end").
    public struct LogEntry: Codable, Sendable {
        public var event: String
        public var method: String
        public var target: String
        public var status: Int?
        public var injected: Bool?
        /// When the peer logged it (seconds since 1970, the peer's clock: this machine's).
        public var t: Double?
    }
    /// Answer `status` (and S3 error `code`) to the next `count` requests with `method` (any when nil) whose
    /// target contains `match`, or hold them `delay` seconds first; with `after`, not before a request whose target
    /// contains `after` has reached the peer (an order a test needs, whatever the machine's load); with `untilEnded`,
    /// held until `untilEndedCount` other requests whose target contains it have ended (at most `delay`, else 60 s).
    public struct Fault: Codable, Sendable {
        public var method: String?
        public var match: String
        public var count: Int
        public var status: Int?
        public var code: String?
        public var delay: Double?
        public var after: String?
        public var untilEnded: String?
        public var untilEndedCount: Int?

        enum CodingKeys: String, CodingKey {
            case method, match, count, status, code, delay, after
            case untilEnded = "until_ended", untilEndedCount = "until_ended_count"
        }

        public init(method: String? = nil, match: String, count: Int, status: Int? = nil, code: String? = nil,
                    delay: Double? = nil, after: String? = nil, untilEnded: String? = nil, untilEndedCount: Int? = nil) {
            self.method = method
            self.match = match
            self.count = count
            self.status = status
            self.code = code
            self.delay = delay
            self.after = after
            self.untilEnded = untilEnded
            self.untilEndedCount = untilEndedCount
        }
    }

    public let ready: Ready
    private let process = ChildProcess()
    private let stdin = Pipe()

    /// Starts a peer and waits (up to 90 s) for its ready line.
    /// - Throws: ``ToolFailure`` with the end of its stderr when it does not start.
    public init() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("wf-moto-\(UUID().uuidString).json")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tests/Peers/moto_server.py").path]
        process.standardInput = stdin
        process.standardOutput = try FileHandle(forWritingTo: out)
        let errors = out.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: out.path), let newline = data.firstIndex(of: 10) {
                ready = try JSONDecoder().decode(Ready.self, from: data[..<newline])
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        throw ToolFailure(description: "moto_server.py did not start (is `moto[server]` installed? make setup-test): "
                          + stderr.split(separator: "\n").suffix(5).joined(separator: " | "))
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    public var endpoint: String { ready.endpoint }

    // MARK: control and inspection (plain HTTP to the peer, answered through boto3 with the admin keys)

    private func call(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: endpoint + path)!)
        request.httpMethod = method
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw ToolFailure(description: "peer \(path): \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    private static func q(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    /// Creates a bucket with a unique name starting with `hint` and returns the name.
    public func makeBucket(_ hint: String = "wf") async throws -> String {
        let name = "\(hint)-\(UUID().uuidString.prefix(13).lowercased())"
        _ = try await call("POST", "/_peer/bucket?name=\(name)")
        return name
    }

    public func objects(_ bucket: String) async throws -> [Object] {
        try JSONDecoder().decode([Object].self, from: try await call("GET", "/_peer/objects?bucket=\(bucket)"))
    }

    /// The bytes of one object.
    public func object(_ bucket: String, key: String) async throws -> Data {
        try await call("GET", "/_peer/object?bucket=\(bucket)&key=\(Self.q(key))")
    }

    /// The multipart uploads still open in `bucket`.
    public func uploads(_ bucket: String) async throws -> [Upload] {
        try JSONDecoder().decode([Upload].self, from: try await call("GET", "/_peer/uploads?bucket=\(bucket)"))
    }

    /// The request log entries whose target is in `bucket` (path-style targets start with `/bucket`).
    public func log(_ bucket: String) async throws -> [LogEntry] {
        try JSONDecoder().decode([LogEntry].self, from: try await call("GET", "/_peer/log"))
            .filter { $0.target.hasPrefix("/\(bucket)/") || $0.target.hasPrefix("/\(bucket)?") || $0.target == "/\(bucket)" }
    }

    /// Adds fault rules to the current ones.
    public func addFaults(_ faults: [Fault]) async throws {
        _ = try await call("POST", "/_peer/faults", body: try JSONEncoder().encode(faults))
    }

    /// Holds the next `count` `method` requests whose target contains `match` for `seconds`.
    public func delay(_ method: String, match: String, count: Int = 1, seconds: Double) async throws {
        try await addFaults([Fault(method: method, match: match, count: count, delay: seconds)])
    }

    /// An `[s3]` TOML table for `bucket` on this peer, path-style, with the IAM user's keys (or a wrong secret),
    /// plus the lines `more`.
    public func toml(bucket: String, prefix: String = "vod", wrongSecret: Bool = false, more: String = "") -> String {
        let keys = ready.user
        let secret = wrongSecret ? String(keys.secret_access_key.reversed()) : keys.secret_access_key
        return """
            [s3]
            bucket = "\(bucket)"
            endpoint = "\(endpoint)"
            path_style = true
            prefix = "\(prefix)"
            access_key_id = "\(keys.access_key_id)"
            secret_access_key = "\(secret)"
            \(keys.session_token.map { "session_token = \"\($0)\"" } ?? "")
            \(more)

            """
    }
}
