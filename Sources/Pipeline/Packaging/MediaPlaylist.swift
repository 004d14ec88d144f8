import Foundation

/// One rendition's segments as the muxer cut them, measured on disk.
struct MediaPlaylist {
    struct Segment {
        var uri: String
        var duration: Double
        var bytes: Int64
    }

    var segments: [Segment]
    /// `init.mp4` for fMP4 renditions.
    var initSegment: String?
    var initBytes: Int64 = 0

    /// Reads the segment list libavformat's `hls` muxer wrote to `url` and sizes each file.
    static func read(from url: URL) throws -> MediaPlaylist {
        let dir = url.deletingLastPathComponent()
        let text = try String(contentsOf: url, encoding: .utf8)
        var segments: [Segment] = []
        var pending: Double?
        var initSegment: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#EXTINF:") {
                pending = Double(line.dropFirst(8).split(separator: ",").first ?? "")
            } else if line.hasPrefix("#EXT-X-MAP:"), let r = line.range(of: "URI=\"") {
                initSegment = String(line[r.upperBound...].prefix { $0 != "\"" })
            } else if !line.isEmpty, !line.hasPrefix("#"), let duration = pending {
                let name = (line as NSString).lastPathComponent
                segments.append(Segment(uri: name, duration: duration, bytes: size(dir.appendingPathComponent(name))))
                pending = nil
            }
        }
        var list = MediaPlaylist(segments: segments, initSegment: initSegment.map { ($0 as NSString).lastPathComponent })
        if let i = list.initSegment { list.initBytes = size(dir.appendingPathComponent(i)) }
        return list
    }

    static func size(_ url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// The muxer's last EXTINF stops at the last frame's start; stretch it so the total is `total` seconds.
    mutating func extendLast(toTotal total: Double) {
        guard let last = segments.indices.last else { return }
        let before = segments.dropLast().reduce(0) { $0 + $1.duration }
        segments[last].duration = max(segments[last].duration, total - before)
    }

    /// A last segment under a second (a source just past a multiple of the segment length) is appended to the one
    /// before it (MPEG-TS and fMP4 fragments both concatenate), so no runt inflates the measured peak.
    mutating func foldShortTail(in directory: URL, minimum: Double = 1) throws {
        guard segments.count >= 2, let tail = segments.last, tail.duration < minimum else { return }
        let previous = segments[segments.count - 2]
        let tailURL = directory.appendingPathComponent(tail.uri)
        let handle = try FileHandle(forWritingTo: directory.appendingPathComponent(previous.uri))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: try Data(contentsOf: tailURL))
        try FileManager.default.removeItem(at: tailURL)
        segments.removeLast()
        segments[segments.count - 1].duration += tail.duration
        segments[segments.count - 1].bytes += tail.bytes
    }

    var duration: Double { segments.reduce(0) { $0 + $1.duration } }
    var bytes: Int64 { segments.reduce(initBytes) { $0 + $1.bytes } }

    /// Highest segment bitrate (bits per second); the init segment counts towards the first.
    var peakBitrate: Int {
        var peak = 0.0
        for (i, s) in segments.enumerated() where s.duration > 0 {
            peak = max(peak, Double(s.bytes + (i == 0 ? initBytes : 0)) * 8 / s.duration)
        }
        return Int(peak.rounded(.up))
    }

    /// Total bits over total duration.
    var averageBitrate: Int { duration > 0 ? Int((Double(bytes) * 8 / duration).rounded(.up)) : 0 }

    /// The VOD playlist we publish: TARGETDURATION is the longest EXTINF rounded to the nearest integer
    /// (RFC 8216 4.3.3.1), ENDLIST.
    func render(version: Int) -> String {
        var out = Self.header(version: version, durations: segments.map(\.duration))
        if let initSegment { out += "#EXT-X-MAP:URI=\"\(initSegment)\"\n" }
        for s in segments {
            out += String(format: "#EXTINF:%.6f,\n", s.duration) + s.uri + "\n"
        }
        return out + "#EXT-X-ENDLIST\n"
    }

    /// The head of every media playlist we write (VOD, from sequence 0, independent segments); TARGETDURATION is the
    /// longest of `durations` rounded to the nearest integer (RFC 8216 4.3.3.1).
    static func header(version: Int, durations: [Double], iFramesOnly: Bool = false) -> String {
        let target = max(1, Int(durations.max()?.rounded() ?? 1))
        return """
            #EXTM3U
            #EXT-X-VERSION:\(version)
            #EXT-X-TARGETDURATION:\(target)
            #EXT-X-MEDIA-SEQUENCE:0
            #EXT-X-PLAYLIST-TYPE:VOD

            """ + (iFramesOnly ? "#EXT-X-I-FRAMES-ONLY\n" : "") + "#EXT-X-INDEPENDENT-SEGMENTS\n"
    }
}
