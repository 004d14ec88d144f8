import Foundation
import Logging
@testable import Pipeline
import Testing
import TestSupport

/// Text subtitle streams of the source and subtitle sidecars as WebVTT renditions (`#EXT-X-MEDIA:TYPE=SUBTITLES`),
/// with ffprobe and GStreamer as oracles and the cues read back from the files.
@Suite("Subtitles")
struct SubtitleTests {
    static let options = FidelityTests.options([Rung(height: 90, videoBitrate: 60_000)], segmentSeconds: 1)

    /// One cue as a test reads it back (or expects it): milliseconds and the payload text.
    struct Cue: Equatable, CustomStringConvertible {
        var start: Int
        var end: Int
        var text: String
        var description: String { "\(start)-\(end) \(text.debugDescription)" }
    }

    static let srt = "1\n00:00:00,500 --> 00:00:01,300\nFish & chips\n\n2\n00:00:01,800 --> 00:00:02,600\nAcross the boundary\n"
    static let ass = """
        [Script Info]
        ScriptType: v4.00+
        PlayResX: 384
        PlayResY: 288

        [V4+ Styles]
        Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
        Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0

        [Events]
        Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
        Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\i1}Bonjour{\\i0}\\Nle monde
        Dialogue: 0,0:00:03.00,0:00:03.50,Default,,0,0,0,,<3 fin

        """
    /// A French SubRip sidecar as Windows tools save it: a byte order mark and CRLF.
    static let frenchSidecar = "\u{FEFF}1\r\n00:00:00,250 --> 00:00:01,000\r\nSalut <i>toi</i>\r\n\r\n2\r\n00:00:03,000 --> 00:00:03,900\r\nAu revoir\r\n"
    static let portugueseSidecar = "WEBVTT\n\nNOTE made by hand\n\ncue-1\n00:01.000 --> 00:02.500 align:start\nOlá, mundo\n\n00:00:02.900 --> 00:00:03.700\nTchau\n"

    /// What each rendition must carry, by folder.
    static let expected: [String: [Cue]] = [
        "subs_en": [Cue(start: 500, end: 1300, text: "Fish &amp; chips"), Cue(start: 1800, end: 2600, text: "Across the boundary")],
        "subs_fr": [Cue(start: 1000, end: 2000, text: "Bonjour\nle monde"), Cue(start: 3000, end: 3500, text: "&lt;3 fin")],
        "subs_fr_2": [Cue(start: 250, end: 1000, text: "Salut <i>toi</i>"), Cue(start: 3000, end: 3900, text: "Au revoir")],
        "subs_pt-BR": [Cue(start: 1000, end: 2500, text: "Olá, mundo"), Cue(start: 2900, end: 3700, text: "Tchau")],
    ]

    /// 4 s of 160x90 video with sound, a SubRip stream (`eng`) and an ASS stream (`fra`, titled "Commentary", marked
    /// default) in Matroska, as a fansub or an NLE export has them.
    static func matroska(_ url: URL, in dir: URL) async throws {
        let srt = dir.appendingPathComponent("in.srt"), ass = dir.appendingPathComponent("in.ass")
        try Data(Self.srt.utf8).write(to: srt)
        try Data(Self.ass.utf8).write(to: ass)
        _ = try await FidelityTests.tool("ffmpeg", [
            "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=4", "-f", "lavfi", "-i", "sine=duration=4",
            "-i", srt.path, "-i", ass.path, "-map", "0", "-map", "1", "-map", "2", "-map", "3",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s:0", "srt", "-c:s:1", "ass",
            "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=fra", "-metadata:s:s:1", "title=Commentary",
            "-disposition:s:0", "0", "-disposition:s:1", "default", url.path])
    }

    /// Opens a sidecar written into `dir` as the daemon hands it over.
    static func sidecar(_ name: String, _ text: String, language: String?, in dir: URL) throws -> SubtitleSidecar {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return SubtitleSidecar(name: name, format: url.pathExtension, language: language, file: try SourceFile.open(path: url.path))
    }

    static func transcode(_ input: URL, in dir: URL, _ options: TranscodeOptions,
                          sidecars: [SubtitleSidecar]) async throws -> (URL, PackageManifest) {
        let out = dir.appendingPathComponent("pkg")
        var request = TranscodeRequest(input: input, outputDirectory: out, workDirectory: dir.appendingPathComponent("work"),
                                       options: options)
        request.subtitles = sidecars
        return (out, try await Transcoder(logger: Logger(label: "test")).transcode(request))
    }

    /// A WebVTT file's header lines (before the first blank line) and cues, read independently of the engine.
    static func readVTT(_ url: URL) throws -> (header: [String], cues: [Cue]) {
        let blocks = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n\n")
        let header = blocks[0].split(separator: "\n").map(String.init)
        func ms(_ s: Substring) -> Int {
            let f = s.split(whereSeparator: { $0 == ":" || $0 == "." }).compactMap { Int($0) }
            return ((f[0] * 60 + f[1]) * 60 + f[2]) * 1000 + f[3]
        }
        let cues = blocks.dropFirst().filter { !$0.isEmpty }.map { block -> Cue in
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
            let times = lines[0].components(separatedBy: " --> ")
            return Cue(start: ms(Substring(times[0])), end: ms(Substring(times[1])), text: lines.dropFirst().joined(separator: "\n"))
        }
        return (header, cues)
    }

    /// Within a frame (25 fps) of what was put in, and the same text.
    static func matches(_ got: [Cue], _ want: [Cue]) -> Bool {
        got.count == want.count && zip(got, want).allSatisfy { abs($0.start - $1.start) <= 40 && abs($0.end - $1.end) <= 40 && $0.text == $1.text }
    }

    static func firstVideoPTS(_ path: String) async throws -> Int {
        let csv = try await FidelityTests.tool("ffprobe", ["-select_streams", "v", "-show_entries", "packet=pts", "-of", "csv=p=0", path])
        // A line is `pts` (or `pts,side_data,...` for a keyframe).
        return csv.split(separator: "\n").compactMap { Int($0.split(separator: ",").first ?? "") }.min() ?? -1
    }

    @Test("embedded SubRip and ASS streams and two sidecars: EXT-X-MEDIA lines, segmented cues at the right time, plays",
          arguments: [SegmentFormat.ts, .fmp4])
    func renditions(format: SegmentFormat) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("clip.mkv")
            try await Self.matroska(input, in: dir)
            var options = Self.options
            options.segmentFormat = format
            let sidecars = [try Self.sidecar("clip.pt-BR.vtt", Self.portugueseSidecar, language: "pt-BR", in: dir),
                            try Self.sidecar("clip.fr.srt", Self.frenchSidecar, language: "fr", in: dir)]
            let (out, manifest) = try await Self.transcode(input, in: dir, options, sidecars: sidecars)
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            let media = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-MEDIA:") }
            // An fMP4 package (with manifest.mpd) has its one audio stream as a rendition of its own.
            let audio: [Substring] = format == .fmp4
                ? [#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="und",NAME="Track 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_und/index.m3u8""#]
                : []
            #expect(media == audio + [
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=NO,AUTOSELECT=YES,URI="subs_en/index.m3u8""#,
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="Commentary",DEFAULT=YES,AUTOSELECT=YES,URI="subs_fr/index.m3u8""#,
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="French",DEFAULT=NO,AUTOSELECT=YES,URI="subs_fr_2/index.m3u8""#,
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="pt-BR",NAME="Portuguese",DEFAULT=NO,AUTOSELECT=YES,URI="subs_pt-BR/index.m3u8""#,
            ], "\(master)")
            if format == .fmp4 {
                // manifest.mpd: one text AdaptationSet per subtitle language, over the whole-track file.
                let mpd = try String(contentsOf: out.appendingPathComponent("manifest.mpd"), encoding: .utf8)
                for (lang, folder) in [("en", "subs_en"), ("fr", "subs_fr"), ("fr", "subs_fr_2"), ("pt-BR", "subs_pt-BR")] {
                    #expect(mpd.contains(#"lang="\#(lang)""#) && mpd.contains("<BaseURL>\(folder)/subtitles.vtt</BaseURL>"), "\(mpd)")
                }
                #expect(mpd.components(separatedBy: #"mimeType="text/vtt""#).count - 1 == 4, "\(mpd)")
            }
            let variants = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF:") }
            #expect(!variants.isEmpty && variants.allSatisfy { $0.hasSuffix(#",SUBTITLES="subs""#) }, "\(master)")
            // The Engine issue's rules still hold: measured bandwidths, codecs with the audio, resolution, frame rate.
            for v in variants {
                #expect(v.contains("BANDWIDTH=") && v.contains(#"CODECS="avc1."#) && v.contains(#",mp4a.40.2""#)
                        && v.contains("RESOLUTION=160x90") && v.contains("FRAME-RATE=25.000"), "\(v)")
            }

            let subs = try #require(manifest.subtitleRenditions)
            #expect(subs.map(\.name) == ["subs_en", "subs_fr", "subs_fr_2", "subs_pt-BR"])
            #expect(subs.map(\.sourceStreamIndex) == [2, 3, nil, nil])
            #expect(subs.map(\.sidecar) == [nil, nil, "clip.fr.srt", "clip.pt-BR.vtt"])
            #expect(subs.map(\.vtt) == subs.map { "\($0.name)/subtitles.vtt" })
            #expect(subs.map(\.cues) == [2, 2, 2, 2])

            let rung = out.appendingPathComponent("90p/index.m3u8")
            let videoSegments = try MediaPlaylist.read(from: rung).segments
            let tsMap = format == .ts ? try await Self.firstVideoPTS(out.appendingPathComponent("90p/\(videoSegments[0].uri)").path) : nil
            if format == .fmp4 {  // no X-TIMESTAMP-MAP: cue time 0 is media time 0, where the video starts (within a frame)
                #expect(try await AudioLanguagesTests.span(rung.path).start < 0.04)
            }
            for s in subs {
                let whole = try Self.readVTT(out.appendingPathComponent(s.vtt))
                let want = try #require(Self.expected[s.name])
                #expect(whole.header == ["WEBVTT"])
                #expect(Self.matches(whole.cues, want), "\(s.name): \(whole.cues) want \(want)")
                // Segmented with the video: same count and EXTINFs; each cue in every segment it overlaps.
                let list = try MediaPlaylist.read(from: out.appendingPathComponent(s.playlist))
                #expect(list.segments.map(\.duration) == videoSegments.map(\.duration), "\(s.name)")
                #expect(list.segments.map(\.uri) == (1...videoSegments.count).map { String(format: "seg_%05d.vtt", $0) })
                #expect(s.segments == videoSegments.count)
                // ffmpeg's HLS demuxer reads the segmented rendition: every cue at its time (a cue in two segments twice).
                let probed = try await FidelityTests.tool("ffprobe", [
                    "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", out.appendingPathComponent(s.playlist).path])
                let times = Set(probed.split(separator: "\n").map { line -> [Int] in
                    line.split(separator: ",").map { Int(((Double($0) ?? -1) * 1000).rounded()) }
                }).sorted { $0.first ?? 0 < $1.first ?? 0 }
                #expect(times.count == want.count && zip(times, want).allSatisfy {
                    $0.count == 2 && abs($0[0] - $1.start) <= 40 && abs($0[0] + $0[1] - $1.end) <= 40
                }, "\(s.name): ffprobe read \(times), want \(want)")
                var start = 0
                for (segment, extinf) in zip(list.segments, videoSegments.map(\.duration)) {
                    let end = start + Int((extinf * 1000).rounded())
                    let read = try Self.readVTT(out.appendingPathComponent(s.name).appendingPathComponent(segment.uri))
                    #expect(read.header == ["WEBVTT"] + (tsMap.map { ["X-TIMESTAMP-MAP=MPEGTS:\($0),LOCAL:00:00:00.000"] } ?? []),
                            "\(s.name)/\(segment.uri)")
                    let overlapping = whole.cues.filter { $0.start < end && $0.end > start }
                    #expect(read.cues == overlapping, "\(s.name)/\(segment.uri): \(read.cues) want \(overlapping)")
                    start = end
                }
            }
            // The cue that spans the 2 s boundary is in both segments.
            #expect(try Self.readVTT(out.appendingPathComponent("subs_en/seg_00002.vtt")).cues.last?.text == "Across the boundary")
            #expect(try Self.readVTT(out.appendingPathComponent("subs_en/seg_00003.vtt")).cues.first?.text == "Across the boundary")

            try await offPool { try GStreamerPlayer.playToEnd(out.appendingPathComponent("master.m3u8")) }
        }
    }

    @Test("an MP4 with a mov_text stream marked default: one DEFAULT=YES rendition in English")
    func movText() async throws {
        try await withTempDir { dir in
            let srt = dir.appendingPathComponent("in.srt")
            try Data(Self.srt.utf8).write(to: srt)
            let input = dir.appendingPathComponent("phone.mp4")
            _ = try await FidelityTests.tool("ffmpeg", [
                "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=3", "-f", "lavfi", "-i", "sine=duration=3",
                "-i", srt.path, "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                "-c:s", "mov_text", "-metadata:s:s:0", "language=eng", "-disposition:s:0", "default", input.path])
            let (out, manifest) = try await Self.transcode(input, in: dir, Self.options, sidecars: [])
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-MEDIA:") } == [
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,URI="subs_en/index.m3u8""#,
            ], "\(master)")
            #expect(manifest.subtitleRenditions?.map(\.sourceStreamIndex) == [2])
            #expect(Self.matches(try Self.readVTT(out.appendingPathComponent("subs_en/subtitles.vtt")).cues, Self.expected["subs_en"]!))
            let map = try Self.readVTT(out.appendingPathComponent("subs_en/seg_00001.vtt")).header
            let pts = try await Self.firstVideoPTS(out.appendingPathComponent("90p/seg_00000.ts").path)
            #expect(map == ["WEBVTT", "X-TIMESTAMP-MAP=MPEGTS:\(pts),LOCAL:00:00:00.000"])
        }
    }

    @Test("with audio renditions too: audio EXT-X-MEDIA first, then subtitles; every variant names both groups")
    func withAudioRenditions() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("three.mkv")
            try await AudioLanguagesTests.threeLanguages(input)
            let vtt = try Self.sidecar("three.en.vtt", "WEBVTT\n\n00:00.500 --> 00:01.000\nHi\n", language: "en", in: dir)
            let (out, _) = try await Self.transcode(input, in: dir, Self.options, sidecars: [vtt])
            let lines = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8).split(separator: "\n")
            #expect(lines.filter { $0.hasPrefix("#EXT-X-MEDIA:") }.map { $0.prefix(24) }
                    == Array(repeating: "#EXT-X-MEDIA:TYPE=AUDIO,", count: 3) + ["#EXT-X-MEDIA:TYPE=SUBTIT"])
            let variants = lines.filter { $0.hasPrefix("#EXT-X-STREAM-INF:") }
            #expect(!variants.isEmpty && variants.allSatisfy { $0.hasSuffix(#",AUDIO="audio",SUBTITLES="subs""#) }, "\(variants)")
            try await offPool { try GStreamerPlayer.playToEnd(out.appendingPathComponent("master.m3u8")) }
        }
    }

    @Test("a timestamp bomb (a cue to 99:00:00, one at 50:00:00) is clamped and dropped: no more segments than the video")
    func timestampBomb() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("short.mp4")
            try await PipelineFixtures.clip(input, seconds: 2, size: "160x90")
            let bomb = try Self.sidecar("short.srt", "1\n00:00:01,000 --> 99:00:00,000\nForever\n\n2\n50:00:00,000 --> 51:00:00,000\nNever\n\n"
                                        + "3\n00:00:01,500 --> 00:00:01,500\nEmpty\n", language: nil, in: dir)
            let (out, manifest) = try await Self.transcode(input, in: dir, Self.options, sidecars: [bomb])
            let sub = try #require(manifest.subtitleRenditions?.first)
            #expect(sub.name == "subs_und" && sub.language == "und" && sub.title == "Subtitles 1" && sub.sidecar == "short.srt")
            #expect(sub.cues == 1)
            #expect(sub.segments == manifest.renditions[0].segments && sub.segments <= 2)
            let end = Int((manifest.durationSeconds * 1000).rounded())
            #expect(try Self.readVTT(out.appendingPathComponent(sub.vtt)).cues == [Cue(start: 1000, end: end, text: "Forever")])
            let folder = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("subs_und").path).sorted()
            #expect(folder == ["index.m3u8", "seg_00001.vtt", "seg_00002.vtt", "subtitles.vtt"])
        }
    }

    @Test("a sidecar that does not parse fails the job with its file and line; nothing is published")
    func brokenSidecar() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("clip.mp4")
            try await PipelineFixtures.clip(input, seconds: 1, size: "160x90")
            let broken = try Self.sidecar("clip.en.srt", "1\n00:00:00,000 --> 00:00:00,500\nFine\n\n2\n00:00:01 --> 00:00:02,000\nBad\n",
                                          language: "en", in: dir)
            await #expect {
                _ = try await Self.transcode(input, in: dir, Self.options, sidecars: [broken])
            } throws: { error in
                "\(error)" == #"clip.en.srt:6: expected a timing line like "00:00:01,000 --> 00:00:02,000", found "00:00:01 --> 00:00:02,000""#
            }
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("pkg").path))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("work").path))
        }
    }

    @Test("bounds: a sidecar over 4 MiB is not read; cues whose copies in the segments pass 32 MiB fail the job")
    func bounds() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("clip.mp4")
            try await PipelineFixtures.clip(input, seconds: 20, size: "160x90")
            let large = try Self.sidecar("large.srt", String(repeating: "\n", count: 4 * 1024 * 1024 + 1), language: nil, in: dir)
            await #expect { _ = try await Self.transcode(input, in: dir, Self.options, sidecars: [large]) } throws: { error in
                "\(error)" == "large.srt: subtitle sidecar larger than 4 MiB (4194305 bytes); it was not read"
            }
            // 950 cues of 4000 characters, each over the whole 20 s: 20 copies each, 76 MB of segments.
            let cue = "00:00:00,000 --> 00:00:20,000\n" + String(repeating: "x", count: 4000) + "\n\n"
            let dense = try Self.sidecar("dense.srt", String(repeating: cue, count: 950), language: nil, in: dir)
            await #expect { _ = try await Self.transcode(input, in: dir, Self.options, sidecars: [dense]) } throws: { error in
                "\(error)" == "clip.mp4: the subtitles of dense.srt would pass 32 MiB in their segments (too many long or overlapping cues)"
            }
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("pkg").path))
        }
    }

    @Test("SubRip and WebVTT parsing: what players accept passes, the rest fails at its line")
    func parser() async throws {
        // Off the cooperative pool: 100,001 cues take seconds to parse in a debug build.
        try await offPool {
            let srt = SubtitleFileParser(format: .srt), vtt = SubtitleFileParser(format: .vtt)
            // Missing blank line before the next cue, a dot for the comma, extra text after the times, tags.
            let loose = try srt.parse(Array("1\n00:00:01.000 --> 00:00:02,000 X1:10\n<font color=red>Red</font> <I>it</I>\n2\n00:00:03,000 --> 00:00:04,000\n{\\an8}Top & <3\n".utf8))
            #expect(loose == [SubtitleCue(start: 1000, end: 2000, text: "Red <i>it</i>"), SubtitleCue(start: 3000, end: 4000, text: "Top &amp; &lt;3")])
            // CR-only line ends, hours past 99.
            #expect(try srt.parse(Array("1\r123:00:00,000 --> 123:00:01,000\rLong\r".utf8)) == [SubtitleCue(start: 442_800_000, end: 442_801_000, text: "Long")])
            #expect(try vtt.parse(Array("WEBVTT - title\nKind: captions\n\nSTYLE\n::cue { color: red }\n\n01:02.003 --> 01:03.000\na --> b\n".utf8))
                    == [SubtitleCue(start: 62_003, end: 63_000, text: "a --&gt; b")])
            // A cue right under the WEBVTT line (no blank line): read as a cue, not as the header.
            #expect(try vtt.parse(Array("\u{FEFF}WEBVTT\n00:00.000 --> 00:00.500\nTop\n".utf8)) == [SubtitleCue(start: 0, end: 500, text: "Top")])

            func failure(_ parser: SubtitleFileParser, _ text: [UInt8]) -> SubtitleFileParser.Failure? {
                do { _ = try parser.parse(text); return nil } catch { return error }
            }
            #expect(failure(vtt, Array("1\n00:00:01.000 --> 00:00:02.000\nx\n".utf8))
                    == .init(line: 1, reason: #"expected "WEBVTT" as the first line, found "1""#))
            #expect(failure(srt, Array("1\n00:00:01,000 --> 00:00:02,000\nok\n\nhello\tworld\u{1B}\n".utf8))
                    == .init(line: 5, reason: #"expected a cue number or a timing line like "00:00:01,000 --> 00:00:02,000", found "hello\u{09}world\u{1B}""#))
            #expect(failure(srt, Array("1\n00:00:01,000 --> 00:61:02,000\nx\n".utf8))
                    == .init(line: 2, reason: #"expected a timing line like "00:00:01,000 --> 00:00:02,000", found "00:00:01,000 --> 00:61:02,000""#))
            #expect(failure(srt, Array("1\n00:00:01,000 --> 00:00:02,000\nok\n".utf8) + [0xC3, 0x28, 0x0A]) == .init(line: 4, reason: "not UTF-8 text (save the file as UTF-8)"))
            #expect(failure(srt, Array("1\n".utf8))?.reason == #"expected a timing line like "00:00:01,000 --> 00:00:02,000" after it, found the end of the file"#)
            let many = (0...SubtitleCue.Bounds.maxCues).map { _ in "00:00:01,000 --> 00:00:02,000\nx\n" }.joined(separator: "\n")
            #expect(failure(srt, Array(many.utf8)) == .init(line: 3 * SubtitleCue.Bounds.maxCues + 1, reason: "more than 100000 cues"))
        }
    }

    @Test("ASS events become plain WebVTT text; long text is cut at a character boundary")
    func assText() {
        #expect(SubtitleText.fromASS(#"0,0,Default,,0,0,0,,{\an8\pos(10,20)}Un, deux{\b1}\Ntrois\hquatre <5>"#) == "Un, deux\ntrois quatre &lt;5&gt;")
        #expect(SubtitleText.fromASS("0,0,Default,,0,0,0,,   ") == "")
        let long = SubtitleText.payload(String(repeating: "é", count: 3000))
        #expect(long.utf8.count == 4096 && long.unicodeScalars.allSatisfy { $0 == "é" })
    }
}
