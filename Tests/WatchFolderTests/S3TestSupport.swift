import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import TestSupport
@testable import WatchFolder

/// A real moto_server (Tests/Peers/moto_server.py) on a free loopback port with SigV4 signature checking on.
///
/// One peer is shared by the S3 tests (each test uses its own bucket; fault rules and log entries are scoped by
/// the bucket name in the request target). The peer exits when this process ends (its stdin closes).
final class MotoPeer: Sendable {
    struct Keys: Codable, Sendable {
        var access_key_id: String
        var secret_access_key: String
        var session_token: String?
    }
    struct Ready: Codable, Sendable {
        var port: Int
        var endpoint: String
        var user: Keys
        var admin: Keys
        var session: Keys
    }
    struct Object: Codable, Sendable, Equatable {
        var key: String
        var size: Int64
        var etag: String
        var content_type: String?
        var cache_control: String?
    }
    struct Upload: Codable, Sendable { var key: String; var upload_id: String }
    struct LogEntry: Codable, Sendable {
        var event: String
        var method: String
        var target: String
        var status: Int?
        var injected: Bool?
    }
    struct Fault: Codable, Sendable {
        var method: String?
        var match: String
        var count: Int
        var status: Int?
        var code: String?
        var delay: Double?
    }

    let ready: Ready
    private let process: Process
    private let stdin: Pipe

    static let shared = Task<MotoPeer, any Error> { try await MotoPeer.start() }

    private init(ready: Ready, process: Process, stdin: Pipe) {
        self.ready = ready
        self.process = process
        self.stdin = stdin
    }

    static func start() async throws -> MotoPeer {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("wf-moto-\(UUID().uuidString).json")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tests/Peers/moto_server.py").path]
        let stdin = Pipe()
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
                let ready = try JSONDecoder().decode(Ready.self, from: data[..<newline])
                return MotoPeer(ready: ready, process: process, stdin: stdin)
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

    var endpoint: String { ready.endpoint }

    // MARK: control and inspection (plain HTTP to the peer, answered through boto3 with the admin keys)

    private func call(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: endpoint + path)!)
        request.httpMethod = method
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        struct PeerError: Error, CustomStringConvertible { var description: String }
        guard status == 200 else { throw PeerError(description: "peer \(path): \(status) \(String(decoding: data, as: UTF8.self))") }
        return data
    }

    private static func q(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    /// Creates a bucket with a unique name and returns it.
    func makeBucket(_ hint: String = "wf") async throws -> String {
        let name = "\(hint)-\(UUID().uuidString.prefix(13).lowercased())"
        _ = try await call("POST", "/_peer/bucket?name=\(name)")
        return name
    }

    func objects(_ bucket: String) async throws -> [Object] {
        try JSONDecoder().decode([Object].self, from: try await call("GET", "/_peer/objects?bucket=\(bucket)"))
    }

    func object(_ bucket: String, key: String) async throws -> Data {
        try await call("GET", "/_peer/object?bucket=\(bucket)&key=\(Self.q(key))")
    }

    func uploads(_ bucket: String) async throws -> [Upload] {
        try JSONDecoder().decode([Upload].self, from: try await call("GET", "/_peer/uploads?bucket=\(bucket)"))
    }

    /// The request log entries whose target is in `bucket` (path-style targets start with `/bucket`).
    func log(_ bucket: String) async throws -> [LogEntry] {
        try JSONDecoder().decode([LogEntry].self, from: try await call("GET", "/_peer/log"))
            .filter { $0.target.hasPrefix("/\(bucket)/") || $0.target.hasPrefix("/\(bucket)?") || $0.target == "/\(bucket)" }
    }

    func addFaults(_ faults: [Fault]) async throws {
        _ = try await call("POST", "/_peer/faults", body: try JSONEncoder().encode(faults))
    }

    /// An `[s3]` config for `bucket` on this peer, path-style, signed with `keys` (the IAM user's by default).
    func config(bucket: String, keys: Keys? = nil, prefix: String = "") -> Config.S3 {
        let keys = keys ?? ready.user
        var c = Config.S3(bucket: bucket)
        c.endpoint = endpoint
        c.pathStyle = true
        c.prefix = prefix
        c.accessKeyID = keys.access_key_id
        c.secretAccessKey = keys.secret_access_key
        c.sessionToken = keys.session_token
        return c
    }
}

/// Test helpers: temp dirs, fixtures made with the ffmpeg CLI.
enum S3Fixtures {
    static func tempDirectory(_ name: String = "wf-s3") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a tool (through `/usr/bin/env`) to completion, killed after `timeout` seconds (its status then says so).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> ProcessResult {
        try runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), [tool] + arguments, timeout: timeout)
    }

    /// A tiny HLS package made by ffmpeg's hls muxer: `master.m3u8`, `v0/index.m3u8`, `v0/seg_NNN.ts`, plus a
    /// poster JPEG whose name needs percent-escaping and a JSON file.
    static func hlsPackage(in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("v0"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("thumbs"), withIntermediateDirectories: true)
        let result = try run("ffmpeg", [
            "-y", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=2",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "5", "-c:a", "aac", "-b:a", "32k",
            "-f", "hls", "-hls_time", "0.5", "-hls_playlist_type", "vod",
            "-hls_segment_filename", directory.appendingPathComponent("v0/seg_%03d.ts").path,
            "-master_pl_name", "master.m3u8",
            directory.appendingPathComponent("v0/index.m3u8").path,
        ])
        guard result.status == 0 else { throw ToolFailure(description: "ffmpeg hls: \(result.stderr)") }
        // ffmpeg writes master.m3u8 next to the media playlist; the package wants it at the root.
        let written = directory.appendingPathComponent("v0/master.m3u8")
        let text = try String(contentsOf: written, encoding: .utf8).replacingOccurrences(of: "index.m3u8", with: "v0/index.m3u8")
        try text.write(to: directory.appendingPathComponent("master.m3u8"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: written)
        let poster = try run("ffmpeg", ["-y", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                                        "testsrc2=size=160x90:duration=1", "-frames:v", "1",
                                        directory.appendingPathComponent("thumbs/poster é 1.jpg").path])
        guard poster.status == 0 else { throw ToolFailure(description: "ffmpeg jpg: \(poster.stderr)") }
        try Data(#"{"title":"test"}"#.utf8).write(to: directory.appendingPathComponent("info.json"))
    }

    /// Writes `size` bytes of non-repeating data, 1 MiB at a time.
    static func bigFile(_ url: URL, size: Int) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var generator = SystemRandomNumberGenerator()
        var written = 0
        while written < size {
            let n = min(1 << 20, size - written)
            var chunk = [UInt8](repeating: 0, count: n)
            for i in stride(from: 0, to: n, by: 8) {
                withUnsafeBytes(of: generator.next() as UInt64) { raw in
                    for j in 0..<min(8, n - i) { chunk[i + j] = raw[j] }
                }
            }
            try handle.write(contentsOf: chunk)
            written += n
        }
    }

    /// Relative paths of every regular file under `directory`.
    static func files(under directory: URL) -> [String] {
        let root = directory.standardizedFileURL.path
        var out: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let rel = enumerator?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(root)/\(rel)", isDirectory: &isDir), !isDir.boolValue {
                out.append(rel)
            }
        }
        return out.sorted()
    }

    static let logger = Logger(label: "test.s3")
}
