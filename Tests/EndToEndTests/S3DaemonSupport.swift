import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// The moto_server peer (`Tests/Peers/moto_server.py`) for the daemon tests: the part of the unit tests'
/// `MotoPeer` (Tests/WatchFolderTests/S3TestSupport.swift) they need — start, buckets, objects, request log, faults.
final class E2EMoto: Sendable {
    struct Keys: Codable, Sendable {
        var access_key_id: String
        var secret_access_key: String
        var session_token: String?
    }
    struct Ready: Codable, Sendable {
        var port: Int
        var endpoint: String
        var user: Keys
    }
    struct Object: Codable, Sendable {
        var key: String
        var size: Int64
        var content_type: String?
        var cache_control: String?
    }
    struct Upload: Codable, Sendable { var key: String; var upload_id: String }
    struct LogEntry: Codable, Sendable {
        var event: String
        var method: String
        var target: String
        var status: Int?
    }

    let ready: Ready
    private let process: Process
    private let stdin: Pipe

    static let shared = Task<E2EMoto, any Error> { try await E2EMoto.start() }

    private init(ready: Ready, process: Process, stdin: Pipe) {
        self.ready = ready
        self.process = process
        self.stdin = stdin
    }

    private static func start() async throws -> E2EMoto {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("wf-e2e-moto-\(UUID().uuidString).json")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tests/Peers/moto_server.py").path]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await waitUntil("moto_server.py is ready (is `moto[server]` installed? make setup-test)", timeout: 90) {
            guard process.isRunning else { throw Timeout(description: "moto_server.py exited") }
            return FileManager.default.contents(atPath: out.path)?.contains(10) == true
        }
        let data = FileManager.default.contents(atPath: out.path) ?? Data()
        let ready = try JSONDecoder().decode(Ready.self, from: data[..<data.firstIndex(of: 10)!])
        return E2EMoto(ready: ready, process: process, stdin: stdin)
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    var endpoint: String { ready.endpoint }

    private func call(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: endpoint + path)!)
        request.httpMethod = method
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw Timeout(description: "peer \(path): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    func makeBucket() async throws -> String {
        let name = "wfd-\(UUID().uuidString.prefix(13).lowercased())"
        _ = try await call("POST", "/_peer/bucket?name=\(name)")
        return name
    }

    func objects(_ bucket: String) async throws -> [Object] {
        try JSONDecoder().decode([Object].self, from: try await call("GET", "/_peer/objects?bucket=\(bucket)"))
    }

    /// The bytes of one object.
    func object(_ bucket: String, key: String) async throws -> Data {
        let q = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? key
        return try await call("GET", "/_peer/object?bucket=\(bucket)&key=\(q)")
    }

    func uploads(_ bucket: String) async throws -> [Upload] {
        try JSONDecoder().decode([Upload].self, from: try await call("GET", "/_peer/uploads?bucket=\(bucket)"))
    }

    /// The request log entries whose (path-style) target is in `bucket`.
    func log(_ bucket: String) async throws -> [LogEntry] {
        try JSONDecoder().decode([LogEntry].self, from: try await call("GET", "/_peer/log"))
            .filter { $0.target.hasPrefix("/\(bucket)/") || $0.target.hasPrefix("/\(bucket)?") || $0.target == "/\(bucket)" }
    }

    /// Holds the next `count` requests whose target contains `match` for `delay` seconds.
    func delay(_ method: String, match: String, count: Int = 1, seconds: Double) async throws {
        let rule: [String: Any] = ["method": method, "match": match, "count": count, "delay": seconds]
        _ = try await call("POST", "/_peer/faults", body: try JSONSerialization.data(withJSONObject: [rule]))
    }

    /// An `[s3]` table for `bucket` on this peer, path-style, with the IAM user's keys (or a wrong secret).
    func toml(bucket: String, prefix: String = "vod", wrongSecret: Bool = false, more: String = "") -> String {
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
