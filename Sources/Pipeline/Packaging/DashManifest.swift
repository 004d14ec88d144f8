import Foundation

/// `manifest.mpd`: a static DASH manifest (ISO/IEC 23009-1, live and CMAF profiles) over the very init and media
/// segments the HLS playlists use, so the package holds no second copy of any media byte.
///
/// One Period; one video AdaptationSet for the SDR rungs and one per HDR range (`hdr = "keep"`, with the CICP colour
/// properties); one audio AdaptationSet per audio rendition (`lang`, Role `main` for the default); one text
/// AdaptationSet per subtitle rendition, whose Representation is its whole WebVTT file. Each media Representation
/// addresses its segments with a `SegmentTemplate` (`seg_$Number%05d$.m4s`) and a `SegmentTimeline` whose every
/// `S@t` is that segment's `tfdt` and whose `S@d` runs to the next one (the last: the sum of its samples), in the
/// track's own timescale: what GStreamer, dash.js and Shaka all read. Should the names not follow the muxer's
/// pattern, a `SegmentList` names each file instead.
struct DashManifest {
    /// One segment on its track's timeline.
    struct Segment: Hashable {
        /// Relative to the package: `720p/seg_00000.m4s`.
        var uri: String
        /// Its first `tfdt`, in the track's timescale.
        var time: UInt64
        var duration: UInt64
    }

    /// One track's segments as its fragments time them.
    struct Timeline: Hashable {
        var timescale: UInt32
        /// Relative to the package: `720p/init.mp4`.
        var initialization: String
        var segments: [Segment]
    }

    static let fileName = "manifest.mpd"

    var manifest: PackageManifest
    /// By rendition name (`720p`, `audio_en`).
    var timelines: [String: Timeline]
    /// Size of each subtitle rendition's WebVTT file, by rendition name (its Representation's bandwidth).
    var textBytes: [String: Int64] = [:]

    /// Measures every video and audio rendition of `manifest` in `directory`, writes `manifest.mpd` there.
    /// - Throws: ``PipelineError`` when a playlist, an init segment or a fragment cannot be read.
    static func write(_ manifest: PackageManifest, directory: URL, file: String) throws {
        var timelines: [String: Timeline] = [:]
        for r in manifest.renditions {
            timelines[r.name] = try measure(playlist: r.playlist, handler: "vide", directory: directory, file: file)
        }
        for a in manifest.audioRenditions ?? [] {
            timelines[a.name] = try measure(playlist: a.playlist, handler: "soun", directory: directory, file: file)
        }
        var dash = DashManifest(manifest: manifest, timelines: timelines)
        for s in manifest.subtitleRenditions ?? [] {
            dash.textBytes[s.name] = MediaPlaylist.size(directory.appendingPathComponent(s.vtt))
        }
        do {
            try dash.render().write(to: directory.appendingPathComponent(fileName), atomically: true, encoding: .utf8)
        } catch {
            throw PipelineError(.output, file: file, "cannot write \(fileName): \(error.localizedDescription)")
        }
    }

    /// The timeline of the track (`handler` `vide` or `soun`) of the fMP4 rendition whose media playlist is `playlist`.
    static func measure(playlist: String, handler: String, directory: URL, file: String) throws -> Timeline {
        let url = directory.appendingPathComponent(playlist)
        let folder = (playlist as NSString).deletingLastPathComponent
        let list = try MediaPlaylist.read(from: url)
        guard let initName = list.initSegment,
              let initBytes = try? [UInt8](Data(contentsOf: url.deletingLastPathComponent().appendingPathComponent(initName))),
              let track = FragmentKeyframes.track(initSegment: initBytes, handler: handler) else {
            throw PipelineError(.media, file: file, "\(playlist): no fMP4 init segment with a \(handler) track")
        }
        var segments: [Segment] = []
        for s in list.segments {
            let path = url.deletingLastPathComponent().appendingPathComponent(s.uri)
            guard let timing = try FragmentTiming.read(path, track: track) else {
                throw PipelineError(.media, file: file, "\(folder)/\(s.uri): no fragment of its track")
            }
            segments.append(Segment(uri: "\(folder)/\(s.uri)", time: timing.start, duration: timing.duration))
        }
        // Each segment runs to the next one's start, so the timeline has no gap or overlap.
        for i in segments.indices.dropLast() where segments[i + 1].time > segments[i].time {
            segments[i].duration = segments[i + 1].time - segments[i].time
        }
        return Timeline(timescale: track.timescale, initialization: "\(folder)/\(initName)", segments: segments)
    }

    /// The MPD document.
    func render() -> String {
        let m = manifest
        var longest = m.segmentSeconds
        for t in timelines.values {
            for s in t.segments { longest = max(longest, Double(s.duration) / Double(t.timescale)) }
        }
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" \
            profiles="urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019" \
            mediaPresentationDuration="\(Self.duration(m.durationSeconds))" minBufferTime="\(Self.duration(longest.rounded(.up)))">
              <Period id="0" start="PT0S">

            """
        var setID = 0
        let frameRate = m.source.video.frameRateRatio
        let rate = frameRate.num > 0 && frameRate.den > 0
            ? (frameRate.den == 1 ? "\(frameRate.num)" : "\(frameRate.num)/\(frameRate.den)") : nil
        for range in VideoRange.allCases {
            let rungs = m.renditions.filter { ($0.videoRange ?? .sdr) == range }
            guard !rungs.isEmpty else { continue }
            out += "    <AdaptationSet id=\"\(setID)\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" "
            out += "startWithSAP=\"1\" maxWidth=\"\(rungs.map(\.width).max() ?? 0)\" maxHeight=\"\(rungs.map(\.height).max() ?? 0)\""
            out += (rate.map { " frameRate=\"\($0)\"" } ?? "") + ">\n"
            setID += 1
            out += Self.colourProperties(range)
            for r in rungs.sorted(by: { $0.peakBandwidth > $1.peakBandwidth }) {
                let videoCodec = r.codecs.split(separator: ",").first { !$0.hasPrefix("mp4a") }.map(String.init) ?? r.codecs
                out += "      <Representation id=\"\(Self.xml(r.name))\" bandwidth=\"\(r.peakBandwidth)\" "
                out += "codecs=\"\(Self.xml(videoCodec))\" width=\"\(r.width)\" height=\"\(r.height)\""
                out += (rate.map { " frameRate=\"\($0)\"" } ?? "") + " sar=\"1:1\">\n"
                out += segmentAddressing(r.name)
                out += "      </Representation>\n"
            }
            out += "    </AdaptationSet>\n"
        }
        for a in m.audioRenditions ?? [] {
            out += "    <AdaptationSet id=\"\(setID)\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"\(Self.xml(a.language))\" "
            out += "segmentAlignment=\"true\" startWithSAP=\"1\">\n"
            setID += 1
            out += "      <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" "
            out += "value=\"\(a.channels)\"/>\n"
            out += "      <Label>\(Self.xml(a.title))</Label>\n"
            out += "      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"\(a.isDefault ? "main" : "alternate")\"/>\n"
            out += "      <Representation id=\"\(Self.xml(a.name))\" bandwidth=\"\(a.peakBandwidth)\" codecs=\"\(Self.xml(a.codecs))\" "
            out += "audioSamplingRate=\"48000\">\n"
            out += segmentAddressing(a.name)
            out += "      </Representation>\n    </AdaptationSet>\n"
        }
        for s in m.subtitleRenditions ?? [] {
            let bytes = textBytes[s.name] ?? 0
            let bandwidth = max(1, m.durationSeconds > 0 ? Int((Double(bytes) * 8 / m.durationSeconds).rounded(.up)) : 1)
            out += "    <AdaptationSet id=\"\(setID)\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"\(Self.xml(s.language))\">\n"
            setID += 1
            out += "      <Label>\(Self.xml(s.title))</Label>\n"
            out += "      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"subtitle\"/>\n"
            out += "      <Representation id=\"\(Self.xml(s.name))\" bandwidth=\"\(bandwidth)\">\n"
            out += "        <BaseURL>\(Self.xml(s.vtt))</BaseURL>\n"
            out += "      </Representation>\n    </AdaptationSet>\n"
        }
        return out + "  </Period>\n</MPD>\n"
    }

    /// The `SegmentTemplate` (or `SegmentList`) of rendition `name`, with its timeline.
    private func segmentAddressing(_ name: String) -> String {
        guard let t = timelines[name], let first = t.segments.first else { return "" }
        let folder = (t.initialization as NSString).deletingLastPathComponent
        let start = Int(((first.uri as NSString).lastPathComponent.dropFirst(4).dropLast(4))) ?? -1
        let templated = start >= 0 && t.segments.enumerated().allSatisfy {
            $0.element.uri == "\(folder)/" + String(format: "seg_%05d.m4s", start + $0.offset)
        }
        let timeline = t.segments.map { "          <S t=\"\($0.time)\" d=\"\($0.duration)\"/>\n" }.joined()
        if templated {
            return "        <SegmentTemplate timescale=\"\(t.timescale)\" initialization=\"\(Self.xml(t.initialization))\" "
                + "media=\"\(Self.xml(folder))/seg_$Number%05d$.m4s\" startNumber=\"\(start)\">\n"
                + "          <SegmentTimeline>\n" + timeline.replacingOccurrences(of: "          <S", with: "            <S")
                + "          </SegmentTimeline>\n        </SegmentTemplate>\n"
        }
        return "        <SegmentList timescale=\"\(t.timescale)\">\n"
            + "          <Initialization sourceURL=\"\(Self.xml(t.initialization))\"/>\n"
            + "          <SegmentTimeline>\n" + timeline.replacingOccurrences(of: "          <S", with: "            <S")
            + "          </SegmentTimeline>\n"
            + t.segments.map { "          <SegmentURL media=\"\(Self.xml($0.uri))\"/>\n" }.joined()
            + "        </SegmentList>\n"
    }

    /// The CICP properties of an HDR AdaptationSet (BT.2020 primaries and matrix; PQ 16, HLG 18); none for SDR.
    /// PQ is essential (a player that cannot map it must skip the set); HLG degrades gracefully on SDR displays.
    private static func colourProperties(_ range: VideoRange) -> String {
        let transfer: String
        switch range {
        case .sdr: return ""
        case .pq: transfer = "      <EssentialProperty schemeIdUri=\"urn:mpeg:mpegB:cicp:TransferCharacteristics\" value=\"16\"/>\n"
        case .hlg: transfer = "      <SupplementalProperty schemeIdUri=\"urn:mpeg:mpegB:cicp:TransferCharacteristics\" value=\"18\"/>\n"
        }
        return "      <EssentialProperty schemeIdUri=\"urn:mpeg:mpegB:cicp:ColourPrimaries\" value=\"9\"/>\n"
            + "      <EssentialProperty schemeIdUri=\"urn:mpeg:mpegB:cicp:MatrixCoefficients\" value=\"9\"/>\n"
            + transfer
    }

    /// `PT12.345S`.
    static func duration(_ seconds: Double) -> String { String(format: "PT%.3fS", max(0, seconds)) }

    /// `s` for an XML attribute or text node.
    static func xml(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
