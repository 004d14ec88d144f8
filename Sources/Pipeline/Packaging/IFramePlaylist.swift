import Foundation

/// A rung's `iframes.m3u8` (RFC 8216 4.3.3.6, `#EXT-X-I-FRAMES-ONLY`): one `#EXT-X-BYTERANGE` per keyframe into the
/// rung's own segments, so trick play costs no media bytes. Each entry lasts until the next keyframe.
///
/// The keyframes are found by scanning the finished segments (``TransportStreamKeyframes``, ``FragmentKeyframes``)
/// rather than recorded at mux time: libavformat's `hls` muxer writes each segment through a muxer of its own whose
/// byte positions it does not expose, and ``MediaPlaylist/foldShortTail(in:minimum:)`` may join two segments after it.
///
/// A TS range starts at the keyframe's first packet; the PAT and PMT it needs come from an `#EXT-X-MAP` over the first
/// segment's leading PSI packets (compatibility version 5 with `#EXT-X-I-FRAMES-ONLY`). An fMP4 range is the `moof`
/// through the keyframe's sample, after `#EXT-X-MAP` `init.mp4`.
struct IFramePlaylist {
    struct Entry {
        var uri: String
        var offset: Int
        var length: Int
        var duration: Double
    }

    var version: Int
    var mapURI: String
    /// `LENGTH@OFFSET` of the map, nil for the whole file.
    var mapRange: String?
    var entries: [Entry]

    /// Scans `list`'s segments in `directory`.
    /// - Throws: ``PipelineError`` when a segment cannot be read or parsed, or no keyframe can be addressed.
    init(list: MediaPlaylist, directory: URL, version: Int, file: String) throws(PipelineError) {
        var found: [(uri: String, offset: Int, length: Int, seconds: Double)] = []
        if let initSegment = list.initSegment {
            let track = try FragmentKeyframes.videoTrack(initSegment: try Self.bytes(directory, initSegment, file), file: file)
            for s in list.segments {
                for k in FragmentKeyframes(segment: try Self.bytes(directory, s.uri, file), track: track).keyframes {
                    found.append((s.uri, k.offset, k.length, Double(k.time) / Double(track.timescale)))
                }
            }
            mapURI = initSegment
            mapRange = nil
            self.version = max(version, 6)
        } else {
            var psi = 0
            for (i, s) in list.segments.enumerated() {
                let scan = try TransportStreamKeyframes(bytes: try Self.bytes(directory, s.uri, file), file: file)
                if i == 0 { psi = scan.psiBytes }
                for k in scan.keyframes { found.append((s.uri, k.offset, k.length, Double(k.pts) / 90_000)) }
            }
            guard psi > 0, let first = list.segments.first else {
                throw PipelineError(.media, file: file, "the first segment does not start with a PAT and a PMT")
            }
            mapURI = first.uri
            mapRange = "\(psi)@0"
            self.version = max(version, 5)
        }
        guard let start = found.first?.seconds else {
            throw PipelineError(.media, file: file, "no keyframe an I-frame playlist can address")
        }
        let end = start + list.duration
        entries = found.indices.map { i in
            let next = i + 1 < found.count ? found[i + 1].seconds : max(end, found[i].seconds)
            return Entry(uri: found[i].uri, offset: found[i].offset, length: found[i].length, duration: next - found[i].seconds)
        }
    }

    private static func bytes(_ directory: URL, _ name: String, _ file: String) throws(PipelineError) -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: directory.appendingPathComponent(name), options: .alwaysMapped))
        } catch {
            throw PipelineError(.output, file: file, "cannot read \(name) for the I-frame playlist: \(error.localizedDescription)")
        }
    }

    /// The peak bitrate of the I-frame stream: the largest range's bits over its entry's duration (RFC 8216 4.3.4.3: the
    /// peak segment bitrate of 4.3.4.2, where an I-frame stream's segments are its ranges).
    var peakBitrate: Int {
        let peak = entries.filter { $0.duration > 0 }.map { Double($0.length) * 8 / $0.duration }.max() ?? 0
        return Int(peak.rounded(.up))
    }

    /// The playlist: VOD header, `#EXT-X-MAP`, one `#EXTINF` + `#EXT-X-BYTERANGE` + URI per keyframe, ENDLIST.
    func render() -> String {
        var out = MediaPlaylist.header(version: version, durations: entries.map(\.duration), iFramesOnly: true)
        out += "#EXT-X-MAP:URI=\"\(mapURI)\"" + (mapRange.map { ",BYTERANGE=\"\($0)\"" } ?? "") + "\n"
        for e in entries {
            out += String(format: "#EXTINF:%.6f,\n", e.duration) + "#EXT-X-BYTERANGE:\(e.length)@\(e.offset)\n" + e.uri + "\n"
        }
        return out + "#EXT-X-ENDLIST\n"
    }
}
