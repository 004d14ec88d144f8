import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Pipeline
import Testing
import TestSupport

/// `manifest.mpd` over the HLS package's own fMP4 segments, with an XML parser, the segments' `tfdt`s, ffprobe and
/// GStreamer as oracles; and `manifest.json`'s `files`.
@Suite("Dash")
struct DashTests {
    static let options: TranscodeOptions = {
        var o = FidelityTests.options([Rung(height: 90, videoBitrate: 60_000), Rung(height: 72, videoBitrate: 40_000)],
                                      segmentSeconds: 1)
        o.segmentFormat = .fmp4
        return o
    }()

    /// The children of `node` named `name` (any namespace), depth first, at every level.
    static func elements(_ node: XMLNode, _ name: String) -> [XMLElement] {
        (node.children ?? []).flatMap { child -> [XMLElement] in
            let here = (child as? XMLElement).flatMap { $0.localName == name ? [$0] : nil } ?? []
            return here + elements(child, name)
        }
    }

    /// Attribute `name` of `e` (FoundationXML's `attribute(forName:)` misses unprefixed attributes of an element in
    /// a default namespace).
    static func attribute(_ e: XMLElement, _ name: String) -> String? {
        e.attributes?.first { ($0.localName ?? $0.name) == name }?.stringValue
    }

    /// The `tfdt` (baseMediaDecodeTime) of the first fragment of the fMP4 segment at `url`, read straight from its bytes.
    static func tfdt(_ url: URL) throws -> UInt64? {
        let b = [UInt8](try Data(contentsOf: url))
        guard let r = b.indices.dropLast(16).first(where: { b[$0] == 0x74 && b[$0 + 1] == 0x66 && b[$0 + 2] == 0x64 && b[$0 + 3] == 0x74 })
        else { return nil }
        let be = { (p: Int, n: Int) in b[p..<(p + n)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return b[r + 4] == 1 ? be(r + 8, 8) : be(r + 8, 4)
    }

    /// The segment files an HLS media playlist names (relative to the package).
    static func playlistFiles(_ out: URL, _ playlist: String) throws -> [String] {
        let folder = (playlist as NSString).deletingLastPathComponent
        let text = try String(contentsOf: out.appendingPathComponent(playlist), encoding: .utf8)
        var files: [String] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#EXT-X-MAP:URI=\"") { files.append("\(folder)/" + line.dropFirst(16).prefix { $0 != "\"" }) }
            if !line.hasPrefix("#") { files.append("\(folder)/\(line)") }
        }
        return files
    }

    /// Every regular file under `dir`, relative, sorted.
    static func listing(_ dir: URL) -> [String] {
        let root = dir.standardizedFileURL.path
        let all = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return all.filter { rel in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(root)/\(rel)", isDirectory: &isDir) && !isDir.boolValue
        }.sorted()
    }

    /// Checks the MPD of `out` against the package: one Representation per video and audio rendition, each timeline
    /// against its HLS playlist's segments and their `tfdt`s; returns the `MPD` element and the files it names.
    @discardableResult
    static func checkMPD(_ out: URL, _ manifest: PackageManifest) throws -> (XMLElement, Set<String>) {
        #expect(manifest.dash == "manifest.mpd")
        let doc = try XMLDocument(data: try Data(contentsOf: out.appendingPathComponent("manifest.mpd")))
        let mpd = try #require(doc.rootElement())
        #expect(mpd.localName == "MPD" && attribute(mpd, "type") == "static")
        #expect(attribute(mpd, "profiles")?.contains("urn:mpeg:dash:profile:isoff-live:2011") == true)
        #expect(attribute(mpd, "mediaPresentationDuration") == String(format: "PT%.3fS", manifest.durationSeconds))
        #expect(elements(mpd, "Period").count == 1)
        var named: Set<String> = []
        let playlists = Dictionary(uniqueKeysWithValues: manifest.renditions.map { ($0.name, $0.playlist) }
            + (manifest.audioRenditions ?? []).map { ($0.name, $0.playlist) })
        let representations = elements(mpd, "Representation").filter { !elements($0, "SegmentTemplate").isEmpty }
        #expect(Set(representations.compactMap { attribute($0, "id") }) == Set(playlists.keys))
        for rep in representations {
            let id = try #require(attribute(rep, "id"))
            let template = try #require(elements(rep, "SegmentTemplate").first)
            let timescale = try #require(UInt64(attribute(template, "timescale") ?? ""))
            let start = try #require(Int(attribute(template, "startNumber") ?? ""))
            let media = try #require(attribute(template, "media"))
            let initialization = try #require(attribute(template, "initialization"))
            let hls = try playlistFiles(out, try #require(playlists[id]))
            #expect(hls.first == initialization, "\(id)")
            let times = elements(template, "S").map { (UInt64(attribute($0, "t") ?? "") ?? 0, UInt64(attribute($0, "d") ?? "") ?? 0) }
            let names = times.indices.map { media.replacingOccurrences(of: "$Number%05d$", with: String(format: "%05d", start + $0)) }
            #expect(names == Array(hls.dropFirst()), "\(id): \(names) vs \(hls)")
            named.insert(initialization)
            for (name, (t, _)) in zip(names, times) {
                named.insert(name)
                let decode = try #require(try tfdt(out.appendingPathComponent(name)), "\(name) has no tfdt")
                #expect(max(t, decode) - min(t, decode) <= 1, "\(name): S@t \(t), tfdt \(decode)")
            }
            // Gapless, and as long as the package within a frame.
            for (a, b) in zip(times, times.dropFirst()) { #expect(a.0 + a.1 == b.0, "\(id)") }
            let total = Double((times.last.map { $0.0 + $0.1 } ?? 0) - (times.first?.0 ?? 0)) / Double(timescale)
            #expect(abs(total - manifest.durationSeconds) < 0.05, "\(id): \(total) s of \(manifest.durationSeconds)")
        }
        return (mpd, named)
    }

    /// The package's media files (init and media segments) are exactly those the HLS playlists name, and exactly those
    /// the MPD names: no second copy. `files` lists the folder.
    static func checkFiles(_ out: URL, _ manifest: PackageManifest, mpdNames: Set<String>) throws {
        let listing = listing(out)
        #expect(manifest.files == listing.filter { $0 != "manifest.json" })
        let media = Set(listing.filter { $0.hasSuffix(".m4s") || $0.hasSuffix(".mp4") })
        let hls = Set(try (manifest.renditions.map(\.playlist) + (manifest.audioRenditions ?? []).map(\.playlist))
            .flatMap { try playlistFiles(out, $0) })
        #expect(media == hls && media == mpdNames, "\(media.symmetricDifference(mpdNames))")
    }

    @Test("fMP4 with two audio languages: manifest.mpd names the HLS segments, ffprobe reads it, GStreamer plays it")
    func languages() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("three.mkv")
            try await AudioLanguagesTests.threeLanguages(input)
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, Self.options)
            let (root, named) = try Self.checkMPD(out, manifest)
            try Self.checkFiles(out, manifest, mpdNames: named)
            let sets = Self.elements(root, "AdaptationSet")
            let video = sets.filter { Self.attribute($0, "contentType") == "video" }
            #expect(video.count == 1 && Self.elements(video[0], "Representation").compactMap { Self.attribute($0, "codecs") }
                .allSatisfy { $0.hasPrefix("avc1.") })
            let audio = sets.filter { Self.attribute($0, "contentType") == "audio" }
            #expect(audio.compactMap { Self.attribute($0, "lang") } == ["en", "fr", "und"])
            let roles = audio.map { Self.elements($0, "Role").first.flatMap { Self.attribute($0, "value") } ?? "" }
            #expect(roles == ["alternate", "main", "alternate"])

            // ffmpeg's dash demuxer reads it: a stream per Representation.
            let types = try await AudioLanguagesTests.streams(out.appendingPathComponent("manifest.mpd").path, "codec_type")
            #expect(types.sorted() == ["audio", "audio", "audio", "video", "video"], "\(types)")
            let played = try await AudioLanguagesTests.playedEnds(out.appendingPathComponent("manifest.mpd"))
            #expect((played.video ?? 0) > 1.9 && (played.audio ?? 0) > 1.9, "\(played)")
        }
    }

    @Test("fMP4 with one audio stream: its own rendition (DEFAULT=YES), video-only variants; DASH and HLS play to the end")
    func oneTrack() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("one.mp4")
            try await PipelineFixtures.clip(input, seconds: 2.5, size: "160x90")
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, Self.options)
            let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.contains(#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="und",NAME="Track 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_und/index.m3u8""#), "\(master)")
            let variants = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF:") }
            #expect(variants.count == 2 && variants.allSatisfy { $0.hasSuffix(#",AUDIO="audio""#) && $0.contains(#",mp4a.40.2""#) })
            #expect(try await AudioLanguagesTests.streams(out.appendingPathComponent("90p/index.m3u8").path, "codec_type") == ["video"])
            #expect(manifest.hasAudio && manifest.audioRenditions?.map(\.name) == ["audio_und"])
            let (_, named) = try Self.checkMPD(out, manifest)
            try Self.checkFiles(out, manifest, mpdNames: named)
            try await offPool { try GStreamerPlayer.playToEnd(out.appendingPathComponent("manifest.mpd")) }
            let played = try await AudioLanguagesTests.playedEnds(out.appendingPathComponent("manifest.mpd"))
            #expect((played.video ?? 0) > 2.4 && (played.audio ?? 0) > 2.4, "\(played)")
            try await offPool { try GStreamerPlayer.playToEnd(out.appendingPathComponent("master.m3u8")) }
        }
    }

    @Test("fMP4 without audio: manifest.mpd has the video alone and plays to the end")
    func videoOnly() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("silent.mp4")
            _ = try await FidelityTests.tool("ffmpeg", ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1.5",
                                                       "-c:v", "libx264", "-preset", "ultrafast", input.path])
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, Self.options)
            #expect(!manifest.hasAudio && manifest.audioRenditions == nil)
            let (mpd, named) = try Self.checkMPD(out, manifest)
            try Self.checkFiles(out, manifest, mpdNames: named)
            #expect(Self.elements(mpd, "AdaptationSet").compactMap { Self.attribute($0, "contentType") } == ["video"])
            try await offPool { try GStreamerPlayer.playToEnd(out.appendingPathComponent("manifest.mpd")) }
        }
    }

    @Test("no manifest.mpd with dash = false (audio muxed as before) nor with TS segments; files lists the folder",
          arguments: [(SegmentFormat.fmp4, false), (.ts, true)])
    func noDash(format: SegmentFormat, dash: Bool) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("one.mp4")
            try await PipelineFixtures.clip(input, seconds: 1.5, size: "160x90")
            var options = Self.options
            options.segmentFormat = format
            options.dash = dash
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, options)
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("manifest.mpd").path))
            #expect(manifest.dash == nil && manifest.audioRenditions == nil && manifest.hasAudio)
            #expect(try await AudioLanguagesTests.streams(out.appendingPathComponent("90p/index.m3u8").path, "codec_type") == ["video", "audio"])
            #expect(manifest.files == Self.listing(out).filter { $0 != "manifest.json" })
            #expect(manifest.files?.contains("master.m3u8") == true && manifest.files?.contains("manifest.json") == false)
        }
    }

    @Test("subtitle renditions become text AdaptationSets pointing at their whole WebVTT file; names are escaped")
    func textSets() throws {
        let json = #"""
            {"version":1,"source":{"file":"a.mp4","container":"mov","durationSeconds":2,"sizeBytes":1,"streams":[],
             "video":{"streamIndex":0,"codec":"h264","pixelFormat":"yuv420p","bitDepth":8,"chroma":"4:2:0","width":160,
             "height":90,"sampleAspect":{"num":1,"den":1},"displayAspect":{"num":16,"den":9},"frameRate":29.97,
             "frameRateRatio":{"num":30000,"den":1001},"averageFrameRate":29.97,"variableFrameRate":false,
             "fieldOrder":"progressive","interlaced":false,"rotation":0,"displayWidth":160,"displayHeight":90,
             "durationSeconds":2}},
             "renditions":[{"name":"90p","width":160,"height":90,"bitrate":1,"peakBandwidth":100,"averageBandwidth":90,
             "bytes":1,"playlist":"90p/index.m3u8","segments":1,"codecs":"avc1.64000B,mp4a.40.2"},
             {"name":"90p_hdr","width":160,"height":90,"bitrate":1,"peakBandwidth":200,"averageBandwidth":90,"bytes":1,
              "playlist":"90p_hdr/index.m3u8","segments":1,"codecs":"hvc1.2.4.L120.90,mp4a.40.2","videoRange":"PQ"}],
             "durationSeconds":2,"sourceDurationSeconds":2,"encoder":"libx264","segmentFormat":"fmp4","segmentSeconds":1,
             "hasAudio":false,"master":"master.m3u8","thumbnails":[],"decodeErrors":0,
             "timings":{"probeSeconds":0,"transcodeSeconds":0,"packageSeconds":0,"totalSeconds":0,"speed":1},
             "subtitleRenditions":[
              {"name":"subs_en","language":"en","title":"English & \"SDH\"","default":true,"playlist":"subs_en/index.m3u8",
               "segments":2,"vtt":"subs_en/subtitles.vtt","cues":3},
              {"name":"subs_pt-BR","language":"pt-BR","title":"Português","default":false,"sidecar":"a.pt-BR.srt",
               "playlist":"subs_pt-BR/index.m3u8","segments":2,"vtt":"subs_pt-BR/subtitles.vtt","cues":3}]}
            """#
        let manifest = try JSONDecoder().decode(PackageManifest.self, from: Data(json.utf8))
        let timeline = DashManifest.Timeline(timescale: 30000, initialization: "90p/init.mp4",
                                             segments: [.init(uri: "90p/seg_00000.m4s", time: 0, duration: 60060)])
        let text = DashManifest(manifest: manifest, timelines: ["90p": timeline], textBytes: ["subs_en": 250]).render()
        let doc = try XMLDocument(data: Data(text.utf8))
        let root = try #require(doc.rootElement())
        let sets = Self.elements(root, "AdaptationSet").filter { Self.attribute($0, "contentType") == "text" }
        #expect(sets.compactMap { Self.attribute($0, "mimeType") } == ["text/vtt", "text/vtt"])
        #expect(sets.compactMap { Self.attribute($0, "lang") } == ["en", "pt-BR"])
        #expect(sets.map { Self.elements($0, "Role").first.flatMap { Self.attribute($0, "value") } } == ["subtitle", "subtitle"])
        #expect(sets.map { Self.elements($0, "Label").first?.stringValue } == [#"English & "SDH""#, "Português"])
        #expect(sets.map { Self.elements($0, "BaseURL").first?.stringValue } == ["subs_en/subtitles.vtt", "subs_pt-BR/subtitles.vtt"])
        #expect(sets.map { Self.elements($0, "Representation").first.flatMap { Self.attribute($0, "id") } } == ["subs_en", "subs_pt-BR"])
        #expect(sets.first.flatMap { Self.elements($0, "Representation").first }.flatMap { Self.attribute($0, "bandwidth") } == "1000")
        let video = try #require(Self.elements(root, "Representation").first)
        #expect(Self.attribute(video, "frameRate") == "30000/1001" && Self.attribute(video, "codecs") == "avc1.64000B")
        // The HDR rung has an AdaptationSet of its own that says PQ, BT.2020.
        let videoSets = Self.elements(root, "AdaptationSet").filter { Self.attribute($0, "contentType") == "video" }
        #expect(videoSets.count == 2)
        let hdr = try #require(videoSets.last)
        #expect(Self.elements(hdr, "Representation").compactMap { Self.attribute($0, "codecs") } == ["hvc1.2.4.L120.90"])
        let properties = Self.elements(hdr, "EssentialProperty").map {
            "\(Self.attribute($0, "schemeIdUri") ?? "")=\(Self.attribute($0, "value") ?? "")"
        }
        #expect(Set(properties) == ["urn:mpeg:mpegB:cicp:ColourPrimaries=9", "urn:mpeg:mpegB:cicp:MatrixCoefficients=9",
                                    "urn:mpeg:mpegB:cicp:TransferCharacteristics=16"])
        #expect(Self.elements(videoSets[0], "EssentialProperty").isEmpty)
    }
}
