import Foundation
import TestSupport
import Testing

/// Every corpus file becomes a package every player accepts; ffprobe and ffmpeg are the oracles.
@Suite("Engine corpus")
struct EngineCorpusTests {
    @Test("transcodes to a valid HLS package", arguments: EngineCorpus.allCases)
    func corpus(_ clip: EngineCorpus) async throws {
        try await withTemporaryDirectory { dir in
            let source = try await clip.make(in: dir)
            let config = try engineTestConfig(in: dir)
            let out = dir.appendingPathComponent("package")
            let r = try await watchfolder("transcode", source.path, "--out", out.path, "--config", config.path)
            #expect(r.status == 0, "\(clip): \(r.stderr)")
            #expect(r.stdout.isEmpty && r.stderr.isEmpty, "off a terminal a successful transcode prints nothing")
            try await validatePackage(out, source: source, hasAudio: clip.hasAudio, segmentSeconds: 1)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".partial") }
            #expect(leftovers.isEmpty)

            let top = try #require(Variant.parse(master: String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)).first)
            let topStreams = try await FFprobe.streams(out.appendingPathComponent(top.uri).path)
            let video = try #require(topStreams.first { $0["codec_type"] as? String == "video" })
            #expect(video["pix_fmt"] as? String == "yuv420p", "8-bit 4:2:0 output")
            switch clip {
            case .rotatedPhone:
                let w = video["width"] as? Int ?? 0, h = video["height"] as? Int ?? 0
                #expect(h > w, "the phone clip is displayed portrait: \(w)x\(h)")
            case .interlacedMpeg2Ts:
                #expect((video["field_order"] as? String ?? "progressive") == "progressive")
            case .tenBit51:
                let audio = topStreams.first { $0["codec_type"] as? String == "audio" }
                #expect(audio?["channels"] as? Int == 2)
                #expect(audio?["sample_rate"] as? String == "48000")
            case .anamorphic:
                #expect(video["width"] as? Int == 640 && video["height"] as? Int == 360, "64:45 PAL is resampled to 16:9 square pixels")
            case .oddSizeVFR:
                #expect(video["width"] as? Int == 320 && video["height"] as? Int == 240, "321x241 becomes one even-sized rung")
                let rate = video["r_frame_rate"] as? String, avg = video["avg_frame_rate"] as? String
                #expect(rate != nil && rate == avg, "constant output frame rate: r=\(rate ?? "-") avg=\(avg ?? "-")")
            default:
                break
            }
        }
    }

    @Test("fMP4 segments: init.mp4 + .m4s, EXT-X-MAP, plays")
    func fmp4() async throws {
        try await withTemporaryDirectory { dir in
            let source = try await EngineCorpus.unicodeName.make(in: dir)
            let config = try engineTestConfig(in: dir, segmentFormat: "fmp4")
            let out = dir.appendingPathComponent("package")
            let r = try await watchfolder("transcode", source.path, "--out", out.path, "--config", config.path)
            #expect(r.status == 0, "\(r.stderr)")
            let media = try String(contentsOf: out.appendingPathComponent("360p/index.m3u8"), encoding: .utf8)
            #expect(media.contains("#EXT-X-MAP:URI=\"init.mp4\""))
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("360p/init.mp4").path))
            #expect(MediaList(media).segments.allSatisfy { $0.uri.hasSuffix(".m4s") })
            try await validatePackage(out, source: source, hasAudio: true, segmentSeconds: 1)
        }
    }
}

/// The checks every package must pass.
func validatePackage(_ out: URL, source: URL, hasAudio: Bool, segmentSeconds: Double) async throws {
    let master = out.appendingPathComponent("master.m3u8")
    let text = try String(contentsOf: master, encoding: .utf8)
    #expect(text.hasPrefix("#EXTM3U\n"))
    #expect(text.contains("#EXT-X-VERSION:"))
    #expect(text.contains("#EXT-X-INDEPENDENT-SEGMENTS"))

    // Plays end to end with no decode errors.
    let play = try await tool("ffmpeg", ["-v", "error", "-i", master.path, "-f", "null", "-"])
    #expect(play.status == 0 && play.stderr.isEmpty, "ffmpeg -i master.m3u8: \(play.stderr)")

    // Source facts from ffprobe.
    let sourceStreams = try await FFprobe.streams(source.path)
    let sv = try #require(sourceStreams.first { $0["codec_type"] as? String == "video" })
    var sw = Double(sv["width"] as? Int ?? 0), sh = Double(sv["height"] as? Int ?? 0)
    if let sar = sv["sample_aspect_ratio"] as? String, sar != "0:1", sar != "N/A" {
        let p = sar.split(separator: ":").compactMap { Double($0) }
        if p.count == 2, p[1] > 0 { sw = sw * p[0] / p[1] }
    }
    let sideData = (sv["side_data_list"] as? [[String: Any]]) ?? []
    if let rotation = sideData.compactMap({ $0["rotation"] as? Int }).first, abs(rotation) % 180 == 90 { swap(&sw, &sh) }
    let sourceDuration = try await FFprobe.duration(source.path)

    let variants = Variant.parse(master: text)
    #expect(!variants.isEmpty)
    /// Measured peak (a segment's bits, the init segment's counted with the first, over its EXTINF) and average.
    func measure(_ playlist: URL) throws -> (peak: Double, average: Double, list: MediaList, initBytes: Int64) {
        let list = MediaList(try String(contentsOf: playlist, encoding: .utf8))
        let dir = playlist.deletingLastPathComponent()
        let initBytes = list.text.contains("EXT-X-MAP") ? fileSize(dir.appendingPathComponent("init.mp4")) : 0
        var peak = 0.0
        var total = Double(initBytes)
        for (i, s) in list.segments.enumerated() {
            let segmentBytes = fileSize(dir.appendingPathComponent(s.uri))
            total += Double(segmentBytes)
            peak = max(peak, Double(segmentBytes + (i == 0 ? initBytes : 0)) * 8 / s.duration)
        }
        return (peak, total * 8 / list.segments.reduce(0) { $0 + $1.duration }, list, initBytes)
    }
    // Audio renditions (EXT-X-MEDIA, group "audio"): a variant naming the group adds the most demanding one's rates.
    let audioURIs = text.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-MEDIA:TYPE=AUDIO,") }.compactMap { line in
        line.range(of: "URI=\"").map { String(line[$0.upperBound...].prefix { $0 != "\"" }) }
    }
    let audioRates = try audioURIs.map { try measure(out.appendingPathComponent($0)) }
    let audioPeak = audioRates.map(\.peak).max() ?? 0, audioAverage = audioRates.map(\.average).max() ?? 0
    let heights = variants.compactMap { $0.attributes["RESOLUTION"]?.split(separator: "x").last.flatMap { Int($0) } }
    #expect(heights == heights.sorted(by: >), "highest variant first")
    var segmentStarts: [[Double]] = []
    for variant in variants {
        let a = variant.attributes
        let playlist = out.appendingPathComponent(variant.uri)
        let measured = try measure(playlist)
        let list = measured.list
        #expect(list.text.contains("#EXT-X-ENDLIST") && list.text.contains("#EXT-X-PLAYLIST-TYPE:VOD"))
        #expect(!list.segments.isEmpty)
        for s in list.segments {
            #expect(Double(list.targetDuration) >= s.duration.rounded(), "TARGETDURATION \(list.targetDuration) < EXTINF \(s.duration)")
        }
        for s in list.segments.dropLast() {
            #expect(abs(s.duration - segmentSeconds) < 0.05, "segment \(s.uri) lasts \(s.duration) s")
        }
        // Measured bandwidths from segment sizes and durations.
        let dir = playlist.deletingLastPathComponent()
        let initBytes = measured.initBytes
        let group = a["AUDIO"] == "audio"
        #expect(group == !audioURIs.isEmpty, "AUDIO=\"audio\" on every variant exactly when there are audio renditions")
        let peak = measured.peak + (group ? audioPeak : 0), average = measured.average + (group ? audioAverage : 0)
        let bandwidth = Double(a["BANDWIDTH"] ?? "") ?? 0, averageBandwidth = Double(a["AVERAGE-BANDWIDTH"] ?? "") ?? 0
        #expect(abs(bandwidth - peak) / peak < 0.01, "BANDWIDTH \(bandwidth) vs measured peak \(peak)")
        #expect(abs(averageBandwidth - average) / average < 0.01, "AVERAGE-BANDWIDTH \(averageBandwidth) vs measured \(average)")
        #expect(averageBandwidth <= bandwidth)

        // Resolution, codecs and frame rate against the stream itself.
        let streams = try await FFprobe.streams(playlist.path)
        let v = try #require(streams.first { $0["codec_type"] as? String == "video" })
        let w = v["width"] as? Int ?? 0, h = v["height"] as? Int ?? 0
        #expect(a["RESOLUTION"] == "\(w)x\(h)")
        #expect(w % 2 == 0 && h % 2 == 0)
        #expect(Double(h) <= sh + 1, "no upscale: \(h) > source \(sh)")
        #expect(abs(Double(w) - Double(h) * sw / sh) <= 2.5, "display aspect kept: \(w)x\(h) vs \(sw)x\(sh)")
        let profile: String = switch v["profile"] as? String {
        case "High": "64"
        case "Main": "4D"
        case "Constrained Baseline", "Baseline": "42"
        default: "??"
        }
        let level = String(format: "%02X", v["level"] as? Int ?? 0)
        let codecs = a["CODECS"] ?? ""
        #expect(codecs.hasPrefix("avc1.\(profile)") && codecs.split(separator: ",")[0].hasSuffix(level), "CODECS \(codecs) vs \(v["profile"] ?? "")@\(level)")
        let audioStreams = group ? try await FFprobe.streams(out.appendingPathComponent(audioURIs[0]).path) : streams
        let audio = audioStreams.contains { $0["codec_type"] as? String == "audio" }
        if group { #expect(!streams.contains { $0["codec_type"] as? String == "audio" }, "video-only variants with AUDIO") }
        if let audioStream = audioStreams.first(where: { $0["codec_type"] as? String == "audio" }) {
            // In sync: audio and video start together (AAC priming aside).
            let vs = Double(v["start_time"] as? String ?? "") ?? -1, as_ = Double(audioStream["start_time"] as? String ?? "") ?? -9
            #expect(abs(vs - as_) < 0.1, "video starts at \(vs) s, audio at \(as_) s")
        }
        #expect(audio == hasAudio)
        #expect(codecs.contains("mp4a.40.2") == audio, "CODECS \(codecs): mp4a only with audio")
        if let rate = a["FRAME-RATE"].flatMap(Double.init), let r = (v["avg_frame_rate"] as? String)?.split(separator: "/").compactMap({ Double($0) }), r.count == 2, r[1] > 0 {
            #expect(abs(rate - r[0] / r[1]) < 0.01, "FRAME-RATE \(rate)")
        }

        // Every segment starts with a keyframe; starts are collected to compare across renditions.
        var starts: [Double] = []
        for s in list.segments {
            var segment = dir.appendingPathComponent(s.uri)
            if initBytes > 0 {  // an fMP4 fragment needs its init segment in front to be probed
                let joined = dir.appendingPathComponent("probe-\(s.uri).mp4")
                try (Data(contentsOf: dir.appendingPathComponent("init.mp4")) + Data(contentsOf: segment)).write(to: joined)
                segment = joined
            }
            defer { if initBytes > 0 { try? FileManager.default.removeItem(at: segment) } }
            let first = try #require(try await FFprobe.firstVideoPacket(segment.path))
            #expect(first.1, "\(variant.uri) \(s.uri) does not start with a keyframe")
            starts.append(first.0)
        }
        segmentStarts.append(starts)

        // Duration within 0.25 s of the source.
        let duration = try await FFprobe.duration(playlist.path)
        #expect(abs(duration - sourceDuration) <= 0.25, "\(variant.uri) lasts \(duration) s, source \(sourceDuration) s")
    }
    for starts in segmentStarts.dropFirst() {
        #expect(starts.count == segmentStarts[0].count)
        for (x, y) in zip(starts, segmentStarts[0]) { #expect(abs(x - y) < 0.001, "segments start at the same time in every rendition") }
    }

    // Ten distinct 320-px thumbnails and a full-size poster.
    var seen = Set<Data>()
    for i in 1...10 {
        let thumb = out.appendingPathComponent(String(format: "thumbnails/thumb_%02d.jpg", i))
        let data = try Data(contentsOf: thumb)
        seen.insert(data)
        let t = try #require(try await FFprobe.streams(thumb.path).first)
        #expect(t["width"] as? Int == 320)
    }
    #expect(seen.count == 10, "10 distinct thumbnails")
    let poster = try #require(try await FFprobe.streams(out.appendingPathComponent("poster.jpg").path).first)
    #expect(abs(Double(poster["height"] as? Int ?? 0) - sh) <= 1, "poster at full (display) size")

    let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as? [String: Any])
    #expect((manifest["renditions"] as? [Any])?.count == variants.count)
    #expect(manifest["encoder"] as? String == "libx264")
    #expect((manifest["thumbnails"] as? [Any])?.count == 10)
    #expect(manifest["source"] is [String: Any])
    #expect(manifest["timings"] is [String: Any])
}
