import Foundation
import Logging
import Pipeline
import Testing
import TestSupport

/// Rates, colour and stream lengths kept as the source has them, checked with the ffmpeg/ffprobe CLIs as oracles.
@Suite("Fidelity")
struct FidelityTests {
    static func options(_ ladder: [Rung], segmentSeconds: Double = 6) -> TranscodeOptions {
        TranscodeOptions(ladder: ladder, preset: "ultrafast", segmentSeconds: segmentSeconds, thumbnails: 0, hardware: .cpu)
    }

    /// Runs `tool` (ffmpeg, ffprobe) off the cooperative pool; fails the test on a non-zero exit.
    static func tool(_ name: String, _ arguments: [String]) async throws -> String {
        let r = try await offPool {
            try runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), [name, "-hide_banner", "-v", "error"] + arguments, timeout: 300)
        }
        struct ToolFailed: Error, CustomStringConvertible { var description: String }
        guard r.status == 0, !r.timedOut else { throw ToolFailed(description: "\(name) \(arguments): \(r.stderr)") }
        return r.stdout + r.stderr
    }

    static func transcode(_ input: URL, in dir: URL, _ options: TranscodeOptions) async throws -> (URL, PackageManifest) {
        let out = dir.appendingPathComponent("pkg")
        let request = TranscodeRequest(input: input, outputDirectory: out, workDirectory: dir.appendingPathComponent("work"),
                                       options: options)
        return (out, try await Transcoder(logger: Logger(label: "test")).transcode(request))
    }

    /// Per stream index: packet count and end (last pts + duration, in seconds from the first video packet).
    static func streamEnds(_ path: String) async throws -> [Int: (count: Int, end: Double)] {
        let csv = try await tool("ffprobe", ["-show_entries", "packet=stream_index,pts_time,duration_time", "-of", "csv=p=0", path])
        var out: [Int: (count: Int, end: Double)] = [:]
        var start = Double.infinity
        for line in csv.split(separator: "\n") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 3, let i = Int(f[0]), let pts = Double(f[1]) else { continue }
            if i == 0 { start = min(start, pts) }
            let end = pts + (Double(f[2]) ?? 0)
            out[i] = ((out[i]?.count ?? 0) + 1, max(out[i]?.end ?? -Double.infinity, end))
        }
        return out.mapValues { ($0.count, $0.end - start) }
    }

    /// `ffprobe` stream fields of the first video stream of `path`.
    static func videoFields(_ path: String, _ fields: String) async throws -> [String: String] {
        let text = try await tool("ffprobe", ["-select_streams", "v:0", "-show_entries", "stream=\(fields)", "-of", "default=nw=1", path])
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    static func rungPlaylists(_ out: URL) throws -> [URL] {
        try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { out.appendingPathComponent(String($0)) }
    }

    // MARK: rates

    @Test("a constant rate is kept exactly, every frame, with FRAME-RATE its rate; 120 fps plays at exactly half",
          arguments: [("24", "24.000", 1), ("25", "25.000", 1), ("30", "30.000", 1), ("50", "50.000", 1), ("60", "60.000", 1),
                      ("24000/1001", "23.976", 1), ("30000/1001", "29.970", 1), ("60000/1001", "59.940", 1), ("120", "60.000", 2)])
    func exactRates(rate: String, frameRate: String, divisor: Int) async throws {
        try await withTempDir { dir in
            // Over a minute: 30 fps relabelled 29.97 loses a frame only every 33 s, 24 fps one every 42 s.
            let input = dir.appendingPathComponent("in.mp4")
            _ = try await Self.tool("ffmpeg", [
                "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=\(rate):duration=61",
                "-f", "lavfi", "-i", "sine=duration=61:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast",
                "-b:v", "50k", "-c:a", "aac", "-b:a", "32k", input.path])
            let source = try await Self.streamEnds(input.path)
            let framesIn = try #require(source[0]?.count)
            let (out, manifest) = try await Self.transcode(input, in: dir, Self.options([Rung(height: 90, videoBitrate: 60_000)]))
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.contains("FRAME-RATE=\(frameRate)\n"), "\(master)")
            let ends = try await Self.streamEnds(out.appendingPathComponent("90p/index.m3u8").path)
            let video = try #require(ends[0]), audio = try #require(ends[1])
            #expect(video.count == framesIn / divisor, "\(framesIn) frames in, \(video.count) out")
            let parts = rate.split(separator: "/").compactMap { Double($0) }
            let outputFrame = Double(divisor) / (parts.count == 2 ? parts[0] / parts[1] : parts[0])
            // Within a frame, plus the AAC encoder's whole last frame of 1,024 samples (its flush).
            #expect(abs(video.end - audio.end) <= outputFrame + 1024 / 48_000, "video ends at \(video.end) s, audio at \(audio.end) s")
            #expect(String(format: "%.3f", manifest.source.video.frameRate) == frameRate)
        }
    }

    // MARK: colour

    /// The luma of the centre pixel of the first picture of `path` (as stored: no conversion).
    static func centreLuma(_ path: String, width: Int, height: Int) async throws -> Int {
        let raw = URL(fileURLWithPath: path + ".y")
        _ = try await tool("ffmpeg", ["-y", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", raw.path])
        let bytes = try Data(contentsOf: raw)
        return Int(bytes[(height / 2) * width + width / 2])
    }

    /// The luma of BT.601 red converted to BT.709 (primaries, transfer and matrix) by the ffmpeg CLI.
    static func convertedRedLuma(in dir: URL) async throws -> Int {
        let ref = dir.appendingPathComponent("ref.y4m")
        _ = try await tool("ffmpeg", ["-f", "lavfi", "-i", "color=c=red:size=64x64:rate=25:duration=0.04", "-vf",
                                      "format=yuv420p,colorspace=all=bt709:iall=bt601-6-525:format=yuv420p", ref.path])
        return try await centreLuma(ref.path, width: 64, height: 64)
    }

    @Test("every rung carries BT.709 tags; BT.601 (tagged, or untagged under 720 lines) is converted, BT.709 kept",
          arguments: [("601", "320x240", true), ("untagged", "320x240", true), ("709", "1280x720", false),
                      ("untagged", "1280x720", false)])
    func colour(tags: String, size: String, converted: Bool) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            // Solid red coded with the BT.601 matrix: luma 81; the same red in BT.709 has luma 63.
            var args = ["-f", "lavfi", "-i", "color=c=red:size=\(size):rate=25:duration=1", "-vf", "format=yuv420p",
                        "-c:v", "libx264", "-preset", "ultrafast"]
            switch tags {
            case "601": args += ["-color_primaries", "smpte170m", "-color_trc", "smpte170m", "-colorspace", "smpte170m", "-color_range", "tv"]
            case "709": args += ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]
            default: break
            }
            _ = try await Self.tool("ffmpeg", args + [input.path])
            let sourceLuma = try await Self.centreLuma(input.path, width: Int(size.split(separator: "x")[0])!,
                                                       height: Int(size.split(separator: "x")[1])!)
            #expect(abs(sourceLuma - 81) <= 2)
            let reference = try await Self.convertedRedLuma(in: dir)
            #expect(abs(reference - 81) > 6)
            let h = Int(size.split(separator: "x")[1])!
            let (out, manifest) = try await Self.transcode(input, in: dir, Self.options(
                [Rung(height: h, videoBitrate: 300_000), Rung(height: h / 2, videoBitrate: 100_000)]))
            let rungs = try Self.rungPlaylists(out)
            #expect(rungs.count == 2)
            for rung in rungs {
                let f = try await Self.videoFields(rung.path, "color_primaries,color_transfer,color_space,color_range,width,height")
                #expect(f["color_primaries"] == "bt709" && f["color_transfer"] == "bt709" && f["color_space"] == "bt709"
                        && f["color_range"] == "tv", "\(rung.lastPathComponent): \(f)")
                let luma = try await Self.centreLuma(rung.path, width: Int(f["width"] ?? "") ?? 0, height: Int(f["height"] ?? "") ?? 0)
                if converted {
                    #expect(abs(luma - reference) <= 2, "\(rung.path): luma \(luma), converted \(reference), relabelled \(sourceLuma)")
                } else {
                    #expect(abs(luma - sourceLuma) <= 2, "\(rung.path): luma \(luma), source \(sourceLuma)")
                }
            }
            let colour = try #require(manifest.source.video.colour)
            #expect(colour.hdr == "sdr")
            #expect(colour.assumed == (tags == "untagged"))
            #expect(colour.primaries == (h < 720 ? "smpte170m" : "bt709"))
        }
    }

    @Test("a full-range source (MJPEG yuvj420p) is brought to limited range once: black is 16, not lifted twice")
    func fullRange() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.avi")
            _ = try await Self.tool("ffmpeg", ["-f", "lavfi", "-i", "color=c=black:size=320x240:rate=25:duration=0.4",
                                               "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", input.path])
            #expect(try await Self.videoFields(input.path, "pix_fmt")["pix_fmt"] == "yuvj420p")
            let (out, _) = try await Self.transcode(input, in: dir, Self.options([Rung(height: 240, videoBitrate: 300_000)]))
            let rung = out.appendingPathComponent("240p/index.m3u8").path
            let luma = try await Self.centreLuma(rung, width: 320, height: 240)
            #expect(abs(luma - 16) <= 2, "black is \(luma)")
            let f = try await Self.videoFields(rung, "color_range")
            #expect(f["color_range"] == "tv")
        }
    }

    // MARK: lengths and segments

    @Test("a tail under a second is folded into the previous segment on every rung; TARGETDURATION as the spec rounds")
    func noRuntSegments() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            // 4.2 s in 2 s segments: 2 + 2 + 0.2 cut by the muxer.
            _ = try await Self.tool("ffmpeg", [
                "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4.2",
                "-f", "lavfi", "-i", "sine=duration=4.24:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast",
                "-c:a", "aac", input.path])
            let (out, manifest) = try await Self.transcode(input, in: dir, Self.options(
                [Rung(height: 180, videoBitrate: 300_000), Rung(height: 90, videoBitrate: 100_000)], segmentSeconds: 2))
            for rung in try Self.rungPlaylists(out) {
                let text = try String(contentsOf: rung, encoding: .utf8)
                let durations = text.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
                    .compactMap { Double($0.dropFirst(8).split(separator: ",")[0]) }
                #expect(durations.count == 2, "\(rung.path): \(durations)")
                #expect(durations.allSatisfy { $0 >= 1 && $0 <= 3 }, "\(durations)")
                #expect(text.contains("#EXT-X-TARGETDURATION:2\n"), "\(text)")
                let files = try FileManager.default.contentsOfDirectory(atPath: rung.deletingLastPathComponent().path)
                #expect(files.filter { $0.hasSuffix(".ts") }.count == 2, "\(files)")
                // The folded package still plays through: every frame is there.
                let ends = try await Self.streamEnds(rung.path)
                #expect(ends[0]?.count == 105 || ends[0]?.count == 106, "\(String(describing: ends[0]))")
            }
            #expect(manifest.renditions.allSatisfy { $0.segments == 2 })
        }
    }

    @Test("streams of different lengths are a whole file: the last picture held, or silence added",
          arguments: [("mkv", 4.0, 7.0), ("mp4", 4.0, 7.0), ("mp4", 6.0, 3.0)])
    func differentLengths(container: String, videoSeconds: Double, audioSeconds: Double) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.\(container)")
            _ = try await Self.tool("ffmpeg", [
                "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=\(videoSeconds)",
                "-f", "lavfi", "-i", "sine=duration=\(audioSeconds):sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast",
                "-c:a", "aac", input.path])
            let (out, manifest) = try await Self.transcode(input, in: dir, Self.options([Rung(height: 180, videoBitrate: 300_000)], segmentSeconds: 2))
            let longer = max(videoSeconds, audioSeconds)
            #expect(abs(manifest.durationSeconds - longer) <= 0.1, "package lasts \(manifest.durationSeconds) s")
            let ends = try await Self.streamEnds(out.appendingPathComponent("180p/index.m3u8").path)
            let video = try #require(ends[0]), audio = try #require(ends[1])
            #expect(abs(video.end - longer) <= 0.1 && abs(audio.end - longer) <= 0.1, "video \(video.end) s, audio \(audio.end) s")
        }
    }

    // MARK: HDR

    static func ssim(_ a: String, _ b: String) async throws -> Double {
        let text = try await tool("ffmpeg", ["-v", "info", "-i", a, "-i", b, "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"])
        let all = try #require(text.range(of: "All:"))
        return try #require(Double(text[all.upperBound...].prefix { $0 == "." || $0.isNumber }))
    }

    /// `input` tone-mapped to SDR BT.709 by the ffmpeg CLI (zscale + tonemap, Hable): the reference picture.
    static func toneMapped(_ input: URL, in dir: URL) async throws -> String {
        let reference = dir.appendingPathComponent("ref.y4m").path
        _ = try await tool("ffmpeg", ["-i", input.path, "-vf", "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
            + "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p", reference])
        return reference
    }

    @Test("PQ and HLG are tone-mapped to SDR BT.709: like the CLI's zscale + tonemap, unlike the naive 8-bit cut",
          arguments: ["arib-std-b67", "smpte2084"])
    func toneMapped(transfer: String) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("hdr.mp4")
            _ = try await Self.tool("ffmpeg", [
                "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=1", "-pix_fmt", "yuv420p10le", "-c:v", "libx264",
                "-preset", "ultrafast", "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", input.path])
            let reference = try await Self.toneMapped(input, in: dir), naive = dir.appendingPathComponent("naive.y4m").path
            _ = try await Self.tool("ffmpeg", ["-i", input.path, "-vf", "format=yuv420p", naive])
            let (out, manifest) = try await Self.transcode(input, in: dir, Self.options([Rung(height: 180, videoBitrate: 2_000_000)]))
            let rung = out.appendingPathComponent("180p/index.m3u8").path
            let toReference = try await Self.ssim(rung, reference), toNaive = try await Self.ssim(rung, naive)
            #expect(toReference > 0.95 && toNaive < toReference - 0.04, "SSIM \(toReference) to the tone-mapped reference, \(toNaive) to the naive cut")
            let f = try await Self.videoFields(rung, "color_primaries,color_transfer,color_space,color_range")
            #expect(f == ["color_primaries": "bt709", "color_transfer": "bt709", "color_space": "bt709", "color_range": "tv"])
            #expect(manifest.source.video.colour?.hdr == (transfer == "smpte2084" ? "pq" : "hlg"))
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.contains(",VIDEO-RANGE=SDR,") && !master.contains("hvc1"), "\(master)")
        }
    }

    // MARK: hdr = "keep"

    /// Each `#EXT-X-STREAM-INF` line of `master.m3u8`, by the URI that follows it.
    static func variants(_ out: URL) throws -> [String: String] {
        let lines = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8).split(separator: "\n")
        var out: [String: String] = [:]
        for (i, line) in lines.enumerated() where line.hasPrefix("#EXT-X-STREAM-INF:") && i + 1 < lines.count {
            out[String(lines[i + 1])] = String(line)
        }
        return out
    }

    @Test("hdr = keep: HLG and PQ get HEVC Main10 rungs at 720p and up, hvc1 in fMP4, the source's colour in the VUI; the H.264 ladder is still tone-mapped",
          arguments: [("arib-std-b67", "HLG"), ("smpte2084", "PQ")])
    func keepHDR(transfer: String, range: String) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("hdr.mov")
            _ = try await Self.tool("ffmpeg", [
                "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
                "-pix_fmt", "yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", "-c:a", "aac", input.path])
            var options = Self.options([Rung(height: 720, videoBitrate: 1_500_000), Rung(height: 360, videoBitrate: 400_000)],
                                       segmentSeconds: 1)
            options.hdr = .keep
            let (out, manifest) = try await Self.transcode(input, in: dir, options)
            let kept = "720p-\(range.lowercased())"
            // Only the 720p rung gets an HEVC twin: 360p is under 720 lines.
            #expect(manifest.renditions.map(\.name) == ["720p", "360p", kept])
            #expect(manifest.renditions.map(\.videoRange) == [.sdr, .sdr, range == "PQ" ? .pq : .hlg])
            #expect(manifest.segmentFormat == "fmp4")  // the options said ts: HEVC in HLS is fMP4
            #expect(manifest.source.video.colour?.ladder.contains("kept in HEVC Main10 (10-bit, BT.2020): \(kept)") == true,
                    "\(String(describing: manifest.source.video.colour?.ladder))")

            // The HEVC rung: Main 10, 10-bit, hvc1, the source's BT.2020 and transfer in its VUI (read from the raw
            // bitstream, where only the VUI can say them).
            let hevcDir = out.appendingPathComponent(kept)
            let tag = try await Self.videoFields(hevcDir.appendingPathComponent("init.mp4").path, "codec_name,codec_tag_string")
            #expect(tag == ["codec_name": "hevc", "codec_tag_string": "hvc1"])
            let raw = dir.appendingPathComponent("kept.hevc").path
            _ = try await Self.tool("ffmpeg", ["-i", hevcDir.appendingPathComponent("index.m3u8").path, "-map", "0:v", "-c", "copy",
                                               "-f", "hevc", raw])
            let f = try await Self.videoFields(raw, "codec_name,profile,pix_fmt,level,color_primaries,color_transfer,color_space,color_range,width,height")
            #expect(f["codec_name"] == "hevc" && f["profile"] == "Main 10" && f["pix_fmt"] == "yuv420p10le", "\(f)")
            #expect(f["color_primaries"] == "bt2020" && f["color_transfer"] == transfer && f["color_space"] == "bt2020nc"
                    && f["color_range"] == "tv", "\(f)")
            #expect(f["width"] == "1280" && f["height"] == "720")
            // Its pictures are the source's, not tone-mapped ones.
            #expect(try await Self.ssim(raw, input.path) > 0.9)

            let variants = try Self.variants(out)
            let hevc = try #require(variants["\(kept)/index.m3u8"])
            #expect(hevc.contains(",VIDEO-RANGE=\(range),"), "\(hevc)")
            #expect(hevc.contains("CODECS=\"hvc1.2.4.L\(f["level"] ?? "?")."), "\(hevc)")
            for sdr in ["720p/index.m3u8", "360p/index.m3u8"] {
                let line = try #require(variants[sdr])
                #expect(line.contains(",VIDEO-RANGE=SDR,") && line.contains("CODECS=\"avc1."), "\(line)")
            }
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.contains("#EXT-X-VERSION:7\n"))
            // H.264 variants first (the one a player that starts with the first variant can always decode), then HEVC.
            let uris = master.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(uris == ["720p/index.m3u8", "360p/index.m3u8", "\(kept)/index.m3u8"], "\(master)")
            // The HEVC rung's I-frame stream: its own codec and range, after the H.264 ones.
            let iFrames = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-I-FRAME-STREAM-INF:") }
            #expect(iFrames.count == 3 && iFrames.last?.contains("CODECS=\"hvc1.2.4.L") == true
                    && iFrames.last?.contains(",VIDEO-RANGE=\(range),URI=\"\(kept)/iframes.m3u8\"") == true, "\(master)")
            // The HEVC rung's segments are cut where the H.264 ones are: players switch between them anywhere.
            let cuts = try manifest.renditions.map { r in
                try String(contentsOf: out.appendingPathComponent(r.playlist), encoding: .utf8).split(separator: "\n")
                    .filter { $0.hasPrefix("#EXTINF:") }
            }
            #expect(cuts.count == 3 && cuts.dropFirst().allSatisfy { $0 == cuts[0] }, "\(cuts)")
            // manifest.mpd: the HEVC rung in an AdaptationSet of its own that names its transfer (16 PQ, 18 HLG).
            let (mpd, _) = try DashTests.checkMPD(out, manifest)
            let videoSets = DashTests.elements(mpd, "AdaptationSet")
                .filter { DashTests.attribute($0, "contentType") == "video" }
            let codecs = videoSets.map { DashTests.elements($0, "Representation").compactMap { DashTests.attribute($0, "codecs") } }
            #expect(codecs.count == 2 && codecs[0].allSatisfy { $0.hasPrefix("avc1.") }
                    && codecs[1].count == 1 && codecs[1][0].hasPrefix("hvc1.2.4.L"), "\(codecs)")
            let transfer = videoSets.last.flatMap { set in
                (DashTests.elements(set, "EssentialProperty") + DashTests.elements(set, "SupplementalProperty"))
                    .first { DashTests.attribute($0, "schemeIdUri") == "urn:mpeg:mpegB:cicp:TransferCharacteristics" }
            }.flatMap { DashTests.attribute($0, "value") }
            #expect(transfer == (range == "PQ" ? "16" : "18"))

            // The H.264 ladder is tone-mapped as with hdr = "tonemap".
            let reference = try await Self.toneMapped(input, in: dir)
            let sdrRung = out.appendingPathComponent("720p/index.m3u8").path
            #expect(try await Self.ssim(sdrRung, reference) > 0.95)
            let sdrTags = try await Self.videoFields(sdrRung, "codec_name,pix_fmt,color_primaries,color_transfer")
            #expect(sdrTags == ["codec_name": "h264", "pix_fmt": "yuv420p", "color_primaries": "bt709", "color_transfer": "bt709"])
        }
    }

    @Test("hdr = keep: an SDR source gets no HEVC rung; every variant says VIDEO-RANGE=SDR")
    func keepSDRSource() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("sdr.mp4")
            try await PipelineFixtures.clip(input, seconds: 1, size: "1280x720")
            var options = Self.options([Rung(height: 720, videoBitrate: 1_000_000)], segmentSeconds: 1)
            options.hdr = .keep
            let (out, manifest) = try await Self.transcode(input, in: dir, options)
            #expect(manifest.renditions.map(\.name) == ["720p"])
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.contains(",VIDEO-RANGE=SDR,") && !master.contains("hvc1") && !master.contains("=HLG")
                    && !master.contains("=PQ"), "\(master)")
            #expect(manifest.source.video.colour?.ladder.contains("HEVC") == false)
        }
    }
}
