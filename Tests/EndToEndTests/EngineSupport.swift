import Foundation
import TestSupport
import Testing

/// Test media for the engine corpus, made with the ffmpeg CLI at test time (tiny: 1-2 s).
enum EngineCorpus: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case h264_1080p, hevc, prores, mpeg4Avi, interlacedMpeg2Ts, vp9NoAudio, oddSizeVFR, rotatedPhone, tenBit51, anamorphic,
         unicodeName

    var testDescription: String { rawValue }

    var fileName: String {
        switch self {
        case .h264_1080p: "h264-1080p.mp4"
        case .hevc: "hevc.mp4"
        case .prores: "prores.mov"
        case .mpeg4Avi: "mpeg4.avi"
        case .interlacedMpeg2Ts: "interlaced.ts"
        case .vp9NoAudio: "vp9.webm"
        case .oddSizeVFR: "odd-vfr.mp4"
        case .rotatedPhone: "phone.mp4"
        case .tenBit51: "10bit-51.mp4"
        case .anamorphic: "anamorphic.mp4"
        case .unicodeName: "Fête vidéo 東京 clip.mov"
        }
    }

    var hasAudio: Bool { self != .vp9NoAudio }

    /// Writes the fixture into `dir` and returns its URL.
    func make(in dir: URL) async throws -> URL {
        let url = dir.appendingPathComponent(fileName)
        let sine = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2"]
        func src(_ size: String, rate: Int = 25, seconds: Double = 2) -> [String] {
            ["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)"]
        }
        let x264 = ["-c:v", "libx264", "-preset", "ultrafast"]
        let aac = ["-c:a", "aac", "-shortest"]
        switch self {
        case .h264_1080p:
            try await Fixtures.ffmpeg(src("1920x1080", seconds: 1) + sine + x264 + ["-pix_fmt", "yuv420p"] + aac + [url.path])
        case .hevc:
            try await Fixtures.ffmpeg(src("640x360") + sine + ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"] + aac + [url.path])
        case .prores:
            try await Fixtures.ffmpeg(src("640x360") + sine + ["-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le",
                                                       "-c:a", "pcm_s16le", "-shortest", url.path])
        case .mpeg4Avi:
            try await Fixtures.ffmpeg(src("480x270") + sine + ["-c:v", "mpeg4", "-q:v", "5", "-c:a", "libmp3lame", "-shortest", url.path])
        case .interlacedMpeg2Ts:
            try await Fixtures.ffmpeg(src("720x576", rate: 50) + sine + [
                "-vf", "tinterlace=interleave_top,fieldorder=tff", "-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-top", "1",
                "-b:v", "4M", "-c:a", "mp2", "-shortest", url.path])
        case .vp9NoAudio:
            try await Fixtures.ffmpeg(src("480x270") + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k", url.path])
        case .oddSizeVFR:
            try await Fixtures.ffmpeg(src("320x240", rate: 30) + sine + [
                "-vf", "scale=321:241,select='not(eq(mod(n\\,4)\\,1))'", "-fps_mode", "vfr"] + x264 + ["-pix_fmt", "yuv444p"] + aac + [url.path])
        case .rotatedPhone:
            try await Fixtures.ffmpeg(src("640x360") + sine + x264 + aac + [url.path])
            try setDisplayRotation(url, degrees: 90)
        case .tenBit51:
            try await Fixtures.ffmpeg(src("640x360") + ["-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=2"] + x264 + [
                "-pix_fmt", "yuv420p10le", "-c:a", "aac", "-ac", "6", "-channel_layout", "5.1", "-shortest", url.path])
        case .anamorphic:
            try await Fixtures.ffmpeg(src("720x576") + sine + ["-vf", "setsar=64/45"] + x264 + aac + [url.path])
        case .unicodeName:
            try await Fixtures.ffmpeg(src("640x360") + sine + x264 + aac + [url.path])
        }
        return url
    }
}

/// Writes a display matrix rotating the video `degrees` clockwise into an MP4's video `tkhd` (ffmpeg 5.1 cannot
/// write one from the CLI). Phones record this way.
func setDisplayRotation(_ url: URL, degrees: Int) throws {
    var data = [UInt8](try Data(contentsOf: url))
    let matrices: [Int: (Int32, Int32, Int32, Int32)] = [90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)]
    let (a, b, c, d) = matrices[degrees]!
    func be32(_ v: Int32, at i: Int) {
        let u = UInt32(bitPattern: v)
        data[i] = UInt8(u >> 24); data[i + 1] = UInt8((u >> 16) & 0xFF); data[i + 2] = UInt8((u >> 8) & 0xFF); data[i + 3] = UInt8(u & 0xFF)
    }
    let tag: [UInt8] = Array("tkhd".utf8)
    var i = 0
    while i + 100 < data.count {
        if Array(data[i..<i + 4]) == tag {
            let version = data[i + 4]
            let matrix = i + 8 + (version == 1 ? 32 : 20) + 16
            let width = data[(matrix + 36)..<(matrix + 40)].reduce(0) { $0 << 8 | Int($1) }
            if width != 0 {
                for (k, v) in [a * 65536, b * 65536, 0, c * 65536, d * 65536, 0, 0, 0, 1 << 30].enumerated() { be32(v, at: matrix + 4 * k) }
            }
        }
        i += 1
    }
    try Data(data).write(to: url)
}

/// What ffprobe says about a file (the independent oracle).
struct FFprobe {
    /// `ffprobe -show_streams -show_format -of json`.
    static func json(_ path: String, extra: [String] = []) async throws -> [String: Any] {
        let r = try await tool("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json"] + extra + [path])
        #expect(r.status == 0, "ffprobe \(path): \(r.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    static func streams(_ path: String) async throws -> [[String: Any]] {
        (try await json(path)["streams"] as? [[String: Any]]) ?? []
    }

    static func duration(_ path: String) async throws -> Double {
        Double((try await json(path)["format"] as? [String: Any])?["duration"] as? String ?? "") ?? -1
    }

    /// The first video packet of a segment: (pts seconds, keyframe?).
    static func firstVideoPacket(_ path: String) async throws -> (Double, Bool)? {
        let r = try await tool("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
                                     "-read_intervals", "%+#1", "-of", "csv=p=0", path])
        guard let line = r.stdout.split(separator: "\n").first else { return nil }
        let parts = line.split(separator: ",")
        guard parts.count >= 2, let t = Double(parts[0]) else { return nil }
        return (t, parts[1].contains("K"))
    }
}

/// One `#EXT-X-STREAM-INF` of a master playlist.
struct Variant {
    var attributes: [String: String]
    var uri: String

    static func parse(master text: String) -> [Variant] {
        var out: [Variant] = []
        let lines = text.split(separator: "\n").map(String.init)
        for (i, line) in lines.enumerated() where line.hasPrefix("#EXT-X-STREAM-INF:") && i + 1 < lines.count {
            var attrs: [String: String] = [:]
            var rest = Substring(line.dropFirst("#EXT-X-STREAM-INF:".count))
            while !rest.isEmpty {
                guard let eq = rest.firstIndex(of: "=") else { break }
                let key = String(rest[..<eq])
                rest = rest[rest.index(after: eq)...]
                var value: Substring
                if rest.first == "\"" {
                    let body = rest.dropFirst()
                    let end = body.firstIndex(of: "\"") ?? body.endIndex
                    value = body[..<end]
                    rest = body[end...].dropFirst()
                } else {
                    let end = rest.firstIndex(of: ",") ?? rest.endIndex
                    value = rest[..<end]
                    rest = rest[end...]
                }
                if rest.first == "," { rest = rest.dropFirst() }
                attrs[key] = String(value)
            }
            out.append(Variant(attributes: attrs, uri: lines[i + 1]))
        }
        return out
    }
}

/// A media playlist's segments: (uri, EXTINF) and its header tags.
struct MediaList {
    var segments: [(uri: String, duration: Double)]
    var targetDuration: Int
    var text: String

    init(_ text: String) {
        self.text = text
        var segs: [(String, Double)] = []
        var pending: Double?
        var target = 0
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("#EXT-X-TARGETDURATION:") { target = Int(line.dropFirst(22)) ?? 0 }
            if line.hasPrefix("#EXTINF:") { pending = Double(line.dropFirst(8).split(separator: ",").first ?? "") }
            else if !line.hasPrefix("#"), !line.isEmpty, let d = pending { segs.append((line, d)); pending = nil }
        }
        segments = segs
        targetDuration = target
    }
}

/// The small ladder the corpus tests use (fast on 2 cores): 360p and 240p, 1 s segments, ultrafast.
func engineTestConfig(in dir: URL, segmentFormat: String = "ts") throws -> URL {
    try writeConfig(in: dir, extra: """
        [transcode]
        preset = "ultrafast"
        segment_seconds = 1
        segment_format = "\(segmentFormat)"
        [[transcode.ladder]]
        height = 360
        video_bitrate = "600k"
        [[transcode.ladder]]
        height = 240
        video_bitrate = "300k"
        """)
}

func fileSize(_ url: URL) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? -1
}
