import Foundation
@testable import Pipeline
import Testing
import TestSupport

/// Every audio stream of a source as an HLS audio rendition (EXT-X-MEDIA), with ffprobe and ffmpeg as oracles.
@Suite("AudioLanguages")
struct AudioLanguagesTests {
    static let options = FidelityTests.options([Rung(height: 90, videoBitrate: 60_000)], segmentSeconds: 1)

    /// 2 s of 160x90 video and three audio streams: a 440 Hz `eng` "Main mix", a 1000 Hz `fra` marked default, and
    /// an untagged 2500 Hz stereo one (Matroska keeps every tag and the dispositions).
    static func threeLanguages(_ url: URL) async throws {
        _ = try await FidelityTests.tool("ffmpeg", [
            "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-f", "lavfi", "-i", "sine=frequency=1000:duration=2",
            "-f", "lavfi", "-i", "sine=frequency=2500:duration=2",
            "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
            "-ac:a:2", "2", "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=Main mix",
            "-metadata:s:a:1", "language=fra", "-disposition:a:0", "0", "-disposition:a:1", "default",
            "-disposition:a:2", "0", url.path])
    }

    /// `ffprobe` stream `fields` of `path` (the top-level streams: an HLS playlist's program lists them again),
    /// one line per stream, values in `fields`' order joined by commas.
    static func streams(_ path: String, _ fields: String) async throws -> [String] {
        let json = try await FidelityTests.tool("ffprobe", ["-show_entries", "stream=\(fields)", "-of", "json", path])
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let streams = object?["streams"] as? [[String: Any]] ?? []
        return streams.map { s in fields.split(separator: ",").map { "\(s[String($0)] ?? "")" }.joined(separator: ",") }
    }

    /// The ends (last buffer's pts + duration, seconds) GStreamer's `playbin` reached on its video and audio sinks
    /// playing `master` to EOS; nil for a sink that got no buffer.
    static func playedEnds(_ master: URL) async throws -> (video: Double?, audio: Double?) {
        let r = try await offPool {
            try runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), [
                "gst-launch-1.0", "-v", "playbin", "uri=\(master.absoluteURL.absoluteString)",
                "video-sink=fakesink name=vs silent=false", "audio-sink=fakesink name=as silent=false"], timeout: 120)
        }
        #expect(r.status == 0 && r.stdout.contains("Got EOS"), "\(r.stdout.suffix(2000)) \(r.stderr)")
        func seconds(_ line: Substring, after key: String) -> Double? {
            guard let range = line.range(of: key) else { return nil }
            let f = line[range.upperBound...].prefix { $0 != "," }.split(separator: ":").compactMap { Double($0) }
            return f.count == 3 ? f[0] * 3600 + f[1] * 60 + f[2] : nil
        }
        var ends: [String: Double] = [:]
        for line in r.stdout.split(separator: "\n") where line.contains("last-message = chain") {
            guard let pts = seconds(line, after: "pts: "), let sink = ["vs", "as"].first(where: { line.contains("(\($0):sink)") })
            else { continue }
            ends[sink] = max(ends[sink] ?? 0, pts + (seconds(line, after: "duration: ") ?? 0))
        }
        return (ends["vs"], ends["as"])
    }

    /// First pts and end (last pts + duration) of `path`'s first stream, seconds.
    static func span(_ path: String) async throws -> (start: Double, end: Double) {
        let csv = try await FidelityTests.tool("ffprobe", [
            "-select_streams", "0", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", path])
        var start = Double.infinity, end = -Double.infinity
        for line in csv.split(separator: "\n") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 2, let pts = Double(f[0]) else { continue }
            start = min(start, pts)
            end = max(end, pts + (Double(f[1]) ?? 0))
        }
        return (start, end)
    }

    /// The dominant frequency of `path`'s audio, from zero crossings of its decoded mono samples.
    static func frequency(_ path: String, in dir: URL) async throws -> Double {
        let raw = dir.appendingPathComponent("pcm-\(UUID().uuidString).raw")
        _ = try await FidelityTests.tool("ffmpeg", ["-i", path, "-ac", "1", "-ar", "48000", "-f", "s16le", raw.path])
        let data = try Data(contentsOf: raw)
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        var crossings = 0
        for (a, b) in zip(samples, samples.dropFirst()) where (a < 0) != (b < 0) { crossings += 1 }
        return Double(crossings) / 2 / (Double(samples.count) / 48_000)
    }

    @Test("two or more audio streams: one EXT-X-MEDIA rendition each, video-only variants naming the group",
          arguments: [SegmentFormat.ts, .fmp4])
    func renditions(format: SegmentFormat) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("three.mkv")
            try await Self.threeLanguages(input)
            var options = Self.options
            options.segmentFormat = format
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, options)
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            let media = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-MEDIA:") }
            #expect(media == [
                #"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en",NAME="Main mix",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio_en/index.m3u8""#,
                #"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="fr",NAME="French",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_fr/index.m3u8""#,
                #"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="und",NAME="Track 3",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio_und/index.m3u8""#,
            ], "\(master)")
            let variants = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF:") }
            #expect(variants.count == 1)
            for v in variants {
                #expect(v.hasSuffix(#",AUDIO="audio""#), "\(v)")
                #expect(v.contains(#"CODECS="avc1."#) && v.contains(#",mp4a.40.2""#), "\(v)")
            }
            // The video rendition is video only.
            let rung = out.appendingPathComponent("90p/index.m3u8").path
            #expect(try await Self.streams(rung, "codec_type") == ["video"])
            let video = try await Self.span(rung)

            // ffmpeg's HLS demuxer reads the master: the video and each audio rendition, with its language.
            let probe = try await FidelityTests.tool("ffprobe", [
                "-show_entries", "stream=codec_type:stream_tags=language", "-of", "json", out.appendingPathComponent("master.m3u8").path])
            let streams = (try JSONSerialization.jsonObject(with: Data(probe.utf8)) as? [String: Any])?["streams"] as? [[String: Any]] ?? []
            let described = streams.map { "\($0["codec_type"] ?? "") \((($0["tags"] as? [String: Any])?["language"]) ?? "-")" }
            #expect(described.sorted() == ["audio en", "audio fr", "audio und", "video -"], "\(described)")
            // GStreamer plays it to the end, picture and sound.
            let played = try await Self.playedEnds(out.appendingPathComponent("master.m3u8"))
            #expect((played.video ?? 0) > 1.9 && (played.audio ?? 0) > 1.9, "\(played)")

            #expect(manifest.audioRenditions?.map(\.name) == ["audio_en", "audio_fr", "audio_und"])
            #expect(manifest.audioRenditions?.map(\.language) == ["en", "fr", "und"])
            #expect(manifest.audioRenditions?.map(\.sourceStreamIndex) == [1, 2, 3])
            #expect(manifest.audioStreamsIgnored == nil)
            for (folder, hz) in [("audio_en", 440.0), ("audio_fr", 1000), ("audio_und", 2500)] {
                let playlist = out.appendingPathComponent("\(folder)/index.m3u8").path
                #expect(try await Self.streams(playlist, "codec_type,codec_name,channels") == ["audio,aac,2"], "\(folder)")
                // In step with the video: starts and ends within a frame of it.
                let audio = try await Self.span(playlist)
                #expect(abs(audio.start - video.start) <= 0.04, "\(folder) \(audio) \(video)")
                #expect(abs(audio.end - video.end) <= 0.04, "\(folder) \(audio) \(video)")
                let measured = try await Self.frequency(playlist, in: dir)
                #expect(abs(measured - hz) / hz < 0.05, "\(folder): \(measured) Hz, want \(hz)")
                // Segments cut with the video's: as many, and the same EXTINFs within an AAC frame.
                let extinf = { (path: String) throws -> [Double] in
                    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
                        .filter { $0.hasPrefix("#EXTINF:") }.compactMap { Double($0.dropFirst(8).dropLast()) }
                }
                let a = try extinf(playlist), v = try extinf(rung)
                #expect(a.count == v.count && zip(a, v).allSatisfy { abs($0 - $1) < 0.03 }, "\(folder): \(a) vs \(v)")
            }
        }
    }

    @Test("one audio stream: muxed into every rendition, no EXT-X-MEDIA, no audio folder, as before")
    func oneTrack() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("one.mp4")
            try await PipelineFixtures.clip(input, seconds: 2, size: "160x90")
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, Self.options)
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(!master.contains("#EXT-X-MEDIA") && !master.contains("AUDIO="), "\(master)")
            #expect(master.contains(#"CODECS="avc1."#) && master.contains(#",mp4a.40.2""#))
            #expect(try await Self.streams(out.appendingPathComponent("90p/index.m3u8").path, "codec_type") == ["video", "audio"])
            let entries = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
            #expect(entries == ["90p", "manifest.json", "master.m3u8", "poster.jpg", "storyboard.vtt", "storyboard_01.jpg",
                                "thumbnails"])
            #expect(manifest.audioRenditions == nil && manifest.audioStreamsIgnored == nil && manifest.hasAudio)
        }
    }

    @Test("max_audio_tracks caps the renditions; the rest are counted in the manifest")
    func cap() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("three.mkv")
            try await Self.threeLanguages(input)
            var options = Self.options
            options.maxAudioTracks = 2
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, options)
            #expect(manifest.audioRenditions?.map(\.name) == ["audio_en", "audio_fr"])
            #expect(manifest.audioStreamsIgnored == 1)
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.components(separatedBy: "#EXT-X-MEDIA:").count == 3, "\(master)")
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("audio_und").path))
        }
    }

    @Test("a source with 60 audio streams (max_streams is 64) makes max_audio_tracks (8) renditions, quickly")
    func hundredStreams() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("many.mkv")
            _ = try await FidelityTests.tool("ffmpeg", [
                "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
                "-map", "0"] + Array(repeating: ["-map", "1"], count: 60).flatMap { $0 } + [
                "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", input.path])
            let started = Date()
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, Self.options)
            let seconds = Date().timeIntervalSince(started)
            #expect(manifest.audioRenditions?.count == 8)
            #expect(manifest.audioStreamsIgnored == 52)
            let folders = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("audio_") }.sorted()
            #expect(folders == ["audio_und"] + (2...8).map { "audio_und_\($0)" }.sorted())
            #expect(seconds < 60, "took \(seconds) s")
        }
    }

    @Test("language tags become BCP 47; titles are made safe and names unique")
    func naming() throws {
        #expect(["eng", "fra", "fre", "ger", "deu", "spa", "jpn", "zho", "por", "EN", "pt-br", "en_US", "", "xyz", "und",
                 "e\"n", "english"].map { LanguageCodes.bcp47($0) }
                == ["en", "fr", "fr", "de", "de", "es", "ja", "zh", "pt", "en", "pt-BR", "en-US", "und", "und", "und",
                    "und", "und"])
        #expect(LanguageCodes.bcp47(nil) == "und")
        #expect(LanguageCodes.twoLetter.count >= 40 && Set(LanguageCodes.twoLetter.values).allSatisfy { LanguageCodes.name(of: $0) != nil })
        #expect(LanguageCodes.name(of: "en-GB") == "English" && LanguageCodes.name(of: "und") == nil)
        #expect(AudioTrackPlanner.attributeText("  Director\"s\r\ncut\u{0}  ") == "Directorscut")
        #expect(AudioTrackPlanner.attributeText(String(repeating: "x", count: 500)).count == 64)
    }
}
