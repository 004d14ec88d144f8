import Foundation
import Logging
import TestSupport
@testable import WatchFolder

extension MotoPeer {
    /// The peer the S3 tests share (each test uses its own bucket, and puts it in its fault rules' `match`).
    static let shared = Task<MotoPeer, any Error> { try await MotoPeer() }

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
    static func run(_ tool: String, _ arguments: [String], timeout: TimeInterval = 120) async throws -> ProcessResult {
        try await runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), [tool] + arguments, timeout: timeout)
    }

    /// A tiny HLS package made by ffmpeg's hls muxer: `master.m3u8`, `v0/index.m3u8`, `v0/seg_NNN.ts`, plus a
    /// poster JPEG whose name needs percent-escaping and a JSON file.
    static func hlsPackage(in directory: URL) async throws {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("v0"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("thumbs"), withIntermediateDirectories: true)
        let result = try await run("ffmpeg", [
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
        let poster = try await run("ffmpeg", ["-y", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                                        "testsrc2=size=160x90:duration=1", "-frames:v", "1",
                                        directory.appendingPathComponent("thumbs/poster é 1.jpg").path])
        guard poster.status == 0 else { throw ToolFailure(description: "ffmpeg jpg: \(poster.stderr)") }
        try Data(#"{"title":"test"}"#.utf8).write(to: directory.appendingPathComponent("info.json"))
        try Data("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nthumbs/poster%20%C3%A9%201.jpg#xywh=0,0,160,90\n".utf8)
            .write(to: directory.appendingPathComponent("storyboard.vtt"))
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
