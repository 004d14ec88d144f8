import Foundation

/// `master.m3u8`: one variant per rendition, with measured bandwidths: the SDR (H.264) variants highest first, then
/// the HDR (HEVC, `hdr = "keep"`) ones, highest first. Every variant says its `VIDEO-RANGE`. With audio renditions,
/// one `#EXT-X-MEDIA:TYPE=AUDIO` per track (group `audio`) comes first and every variant names the group; so do the
/// subtitle renditions (`TYPE=SUBTITLES`, group `subs`).
struct MasterPlaylist {
    struct Variant {
        var uri: String
        var peakBitrate: Int
        var averageBitrate: Int
        var codecs: String
        var width: Int
        var height: Int
        var frameRate: Double
        var videoRange: VideoRange
        /// The rung's `iframes.m3u8` and its peak bitrate.
        var iFrameURI: String
        var iFrameBitrate: Int
        /// The video codec alone: an I-frame stream has no audio.
        var videoCodec: String
    }

    /// An audio rendition of group `audio`.
    struct Audio {
        var language: String
        var name: String
        var isDefault: Bool
        var channels: Int
        var uri: String
    }

    /// A subtitle rendition of group `subs`.
    struct Subtitles {
        var language: String
        var name: String
        var isDefault: Bool
        var uri: String
    }

    var version: Int
    var variants: [Variant]
    var audio: [Audio] = []
    var subtitles: [Subtitles] = []

    func render() -> String {
        var out = "#EXTM3U\n#EXT-X-VERSION:\(version)\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        for a in audio {
            out += "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"\(a.language)\",NAME=\"\(a.name)\","
            out += "DEFAULT=\(a.isDefault ? "YES" : "NO"),AUTOSELECT=YES,CHANNELS=\"\(a.channels)\",URI=\"\(a.uri)\"\n"
        }
        for s in subtitles {
            out += "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"\(s.language)\",NAME=\"\(s.name)\","
            out += "DEFAULT=\(s.isDefault ? "YES" : "NO"),AUTOSELECT=YES,URI=\"\(s.uri)\"\n"
        }
        // H.264 first: a player that reads the first variant as its start gets one every device can decode.
        let ordered = variants.sorted {
            ($0.videoRange == .sdr ? 1 : 0, $0.height, $0.peakBitrate) > ($1.videoRange == .sdr ? 1 : 0, $1.height, $1.peakBitrate)
        }
        for v in ordered {
            out += "#EXT-X-STREAM-INF:BANDWIDTH=\(v.peakBitrate),AVERAGE-BANDWIDTH=\(v.averageBitrate),"
            out += "CODECS=\"\(v.codecs)\",RESOLUTION=\(v.width)x\(v.height),VIDEO-RANGE=\(v.videoRange.rawValue),"
            out += "FRAME-RATE=\(String(format: "%.3f", v.frameRate))" + (audio.isEmpty ? "" : ",AUDIO=\"audio\"")
                + (subtitles.isEmpty ? "" : ",SUBTITLES=\"subs\"") + "\n"
            out += v.uri + "\n"
        }
        for v in ordered {
            out += "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=\(v.iFrameBitrate),CODECS=\"\(v.videoCodec)\","
            out += "RESOLUTION=\(v.width)x\(v.height),VIDEO-RANGE=\(v.videoRange.rawValue),URI=\"\(v.iFrameURI)\"\n"
        }
        return out
    }
}
