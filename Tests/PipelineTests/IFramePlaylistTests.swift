import Foundation
@testable import Pipeline
import TestSupport
import Testing

/// `RUNG/iframes.m3u8`: byte ranges into the rung's own segments, one per keyframe, checked with ffprobe on the cut
/// bytes and with GStreamer playing the package.
@Suite("IFramePlaylist")
struct IFramePlaylistTests {
    struct Entry {
        var duration: Double
        var length: Int
        var offset: Int
        var uri: String
    }

    /// The `#EXTINF` + `#EXT-X-BYTERANGE` + URI triples, and the map's URI and `LENGTH@OFFSET`.
    static func parse(_ text: String) throws -> (entries: [Entry], map: (uri: String, range: String?)) {
        var entries: [Entry] = [], duration: Double?, range: (Int, Int)?, map: (String, String?)?
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("#EXTINF:") {
                duration = Double(line.dropFirst(8).prefix { $0 != "," })
            } else if line.hasPrefix("#EXT-X-BYTERANGE:") {
                let p = line.dropFirst(17).split(separator: "@").compactMap { Int($0) }
                range = p.count == 2 ? (p[0], p[1]) : nil
            } else if line.hasPrefix("#EXT-X-MAP:") {
                let uri = try #require(Self.attribute("URI", in: line))
                map = (uri, Self.attribute("BYTERANGE", in: line))
            } else if !line.hasPrefix("#") {
                let d = try #require(duration), r = try #require(range)
                entries.append(Entry(duration: d, length: r.0, offset: r.1, uri: line))
                duration = nil; range = nil
            }
        }
        return (entries, try #require(map))
    }

    static func attribute(_ name: String, in line: String) -> String? {
        guard let r = line.range(of: "\(name)=") else { return nil }
        let rest = line[r.upperBound...]
        if rest.hasPrefix("\"") { return String(rest.dropFirst().prefix { $0 != "\"" }) }
        return String(rest.prefix { $0 != "," })
    }

    /// Key flag, picture type and pts of every video frame ffprobe decodes in `path` (its CSV says
    /// `key_frame,pts_time,pict_type[,side data]`).
    static func frames(_ path: String) async throws -> [(key: Bool, type: String, pts: Double)] {
        let csv = try await FidelityTests.tool("ffprobe", ["-select_streams", "v:0", "-show_frames", "-show_entries",
                                                          "frame=key_frame,pict_type,pts_time", "-of", "csv=p=0", path])
        return csv.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ",").map(String.init)
            guard f.count >= 3, let pts = Double(f[1]) else { return nil }
            return (f[0] == "1", f[2], pts)
        }
    }

    @Test("every video rung has iframes.m3u8, listed in the master; each range cut out decodes to exactly its keyframe; GStreamer plays the package",
          arguments: [SegmentFormat.ts, .fmp4])
    func iFramePlaylists(format: SegmentFormat) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            // 4.5 s in 1 s segments: the last half second is folded into the fourth, which then holds two keyframes.
            try await PipelineFixtures.clip(input, seconds: 4.5)
            var options = FidelityTests.options([Rung(height: 180, videoBitrate: 300_000), Rung(height: 120, videoBitrate: 150_000)],
                                                segmentSeconds: 1)
            options.segmentFormat = format
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, options)
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            let iFrameLines = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-I-FRAME-STREAM-INF:") }.map(String.init)
            #expect(iFrameLines.count == manifest.renditions.count, "\(master)")
            // The variants are still what they were: one STREAM-INF + URI per rung.
            #expect(try FidelityTests.variants(out).count == manifest.renditions.count)

            for rendition in manifest.renditions {
                let rungDir = out.appendingPathComponent(rendition.name)
                #expect(rendition.iframePlaylist == "\(rendition.name)/iframes.m3u8")
                let text = try String(contentsOf: rungDir.appendingPathComponent("iframes.m3u8"), encoding: .utf8)
                #expect(text.contains("\n#EXT-X-I-FRAMES-ONLY\n") && text.hasSuffix("#EXT-X-ENDLIST\n"), "\(text)")
                #expect(text.contains(format == .ts ? "#EXT-X-VERSION:5\n" : "#EXT-X-VERSION:7\n"), "\(text)")
                let (entries, map) = try Self.parse(text)
                if format == .fmp4 { #expect(map.uri == "init.mp4" && map.range == nil) } else { #expect(map.range != nil) }

                // The master's line for this rung.
                let line = try #require(iFrameLines.first { $0.contains("URI=\"\(rendition.name)/iframes.m3u8\"") }, "\(master)")
                let peak = entries.map { Double($0.length) * 8 / $0.duration }.max() ?? 0
                let bandwidth = try #require(Self.attribute("BANDWIDTH", in: line).flatMap { Int($0) }, "\(line)")
                #expect(abs(bandwidth - Int(peak.rounded(.up))) <= 1, "\(line): peak range \(peak) bit/s")
                #expect(Self.attribute("CODECS", in: line) == rendition.codecs.replacingOccurrences(of: ",mp4a.40.2", with: ""))
                #expect(Self.attribute("RESOLUTION", in: line) == "\(rendition.width)x\(rendition.height)")
                #expect(Self.attribute("VIDEO-RANGE", in: line) == "SDR")

                // The keyframes ffprobe sees in the whole rung (map + every segment), in order.
                let segments = try String(contentsOf: rungDir.appendingPathComponent("index.m3u8"), encoding: .utf8)
                    .split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
                // No media bytes of its own: the rung's folder holds its playlists and the segments the variant plays.
                let files = try FileManager.default.contentsOfDirectory(atPath: rungDir.path)
                #expect(Set(files) == Set(segments + ["index.m3u8", "iframes.m3u8"] + (format == .fmp4 ? ["init.mp4"] : [])))
                #expect(Set(entries.map(\.uri)).isSubset(of: segments) && (segments.contains(map.uri) || map.uri == "init.mp4"))
                let mapBytes = try Self.mapBytes(map, in: rungDir)
                var whole = format == .fmp4 ? mapBytes : Data()
                for s in segments { whole += try Data(contentsOf: rungDir.appendingPathComponent(s)) }
                let wholeURL = dir.appendingPathComponent("\(rendition.name)-whole")
                try whole.write(to: wholeURL)
                let keyframes = try await Self.frames(wholeURL.path).filter(\.key).map(\.pts)
                #expect(entries.count == keyframes.count, "\(entries.count) entries, keyframes at \(keyframes)")
                #expect(Set(entries.map(\.uri)).count == entries.count - 1, "the folded segment has two entries: \(entries)")
                #expect(abs(entries.reduce(0) { $0 + $1.duration } - manifest.durationSeconds) < 0.05)

                for (i, e) in entries.enumerated() {
                    let segment = try Data(contentsOf: rungDir.appendingPathComponent(e.uri))
                    #expect(e.offset >= 0 && e.length > 0 && e.offset + e.length <= segment.count, "\(e)")
                    guard e.offset >= 0, e.length > 0, e.offset + e.length <= segment.count else { continue }
                    let cut = dir.appendingPathComponent("\(rendition.name)-\(i)")
                    try (mapBytes + segment[e.offset..<(e.offset + e.length)]).write(to: cut)
                    let decoded = try await Self.frames(cut.path)
                    #expect(decoded.count == 1 && decoded.first?.key == true && decoded.first?.type == "I", "\(e): \(decoded)")
                    if i < keyframes.count, let pts = decoded.first?.pts {
                        #expect(abs(pts - keyframes[i]) < 0.001, "\(e): pts \(pts), keyframe \(keyframes[i])")
                    }
                }
            }
            try await offPool { try GStreamerPlayer.playToEnd(out.appendingPathComponent("master.m3u8")) }
        }
    }

    @Test("the keyframe scanners stay in bounds on truncated and corrupted segments")
    func scannersStayInBounds() async throws {
        try await withTempDir { dir in
            for (type, ext) in [("mpegts", "ts"), ("fmp4", "m4s")] {
                try await PipelineFixtures.ffmpeg([
                    "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "12", "-c:a", "aac", "-f", "hls", "-hls_time", "10",
                    "-hls_segment_type", type, "-hls_fmp4_init_filename", "init.mp4",
                    "-hls_segment_filename", dir.appendingPathComponent("s_%d.\(ext)").path, dir.appendingPathComponent("\(ext).m3u8").path])
            }
            let ts = [UInt8](try Data(contentsOf: dir.appendingPathComponent("s_0.ts")))
            let initSegment = [UInt8](try Data(contentsOf: dir.appendingPathComponent("init.mp4")))
            let fragment = [UInt8](try Data(contentsOf: dir.appendingPathComponent("s_0.m4s")))
            let track = try FragmentKeyframes.videoTrack(initSegment: initSegment, file: "init.mp4")
            // Whole: every keyframe of the TS (-g 12: several in 2 s), the fragment's opening one.
            let keyframes = try await Self.frames(dir.appendingPathComponent("s_0.ts").path).filter(\.key).count
            let scanned = try TransportStreamKeyframes(bytes: ts, file: "s_0.ts").keyframes.count
            #expect(keyframes > 1 && scanned == keyframes)
            #expect(FragmentKeyframes(segment: fragment, track: track).keyframes.count == 1)

            var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
            func next() -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int(seed >> 33) }
            func damaged(_ bytes: [UInt8], _ round: Int) -> [UInt8] {
                var b = Array(bytes.prefix(round.isMultiple(of: 2) ? bytes.count : next() % (bytes.count + 1)))
                for _ in 0..<(1 + next() % 8) where !b.isEmpty { b[next() % b.count] = UInt8(truncatingIfNeeded: next()) }
                return b
            }
            for round in 0..<400 {
                let t = damaged(ts, round)
                for k in (try? TransportStreamKeyframes(bytes: t, file: "s_0.ts"))?.keyframes ?? [] {
                    #expect(k.offset >= 0 && k.length > 0 && k.offset + k.length <= t.count)
                }
                _ = try? FragmentKeyframes.videoTrack(initSegment: damaged(initSegment, round), file: "init.mp4")
                let f = damaged(fragment, round)
                for k in FragmentKeyframes(segment: f, track: track).keyframes {
                    #expect(k.offset >= 0 && k.length > 0 && k.offset + k.length <= f.count)
                }
            }
        }
    }

    /// The map's bytes: its file, or the `LENGTH@OFFSET` slice of it.
    static func mapBytes(_ map: (uri: String, range: String?), in dir: URL) throws -> Data {
        let file = try Data(contentsOf: dir.appendingPathComponent(map.uri))
        guard let range = map.range else { return file }
        let p = range.split(separator: "@").compactMap { Int($0) }
        try #require(p.count == 2 && p[1] + p[0] <= file.count)
        return file[p[1]..<(p[1] + p[0])]
    }
}
