import Foundation

/// `master.m3u8`: one variant per rendition, highest first, with measured bandwidths.
struct MasterPlaylist {
    struct Variant {
        var uri: String
        var peakBitrate: Int
        var averageBitrate: Int
        var codecs: String
        var width: Int
        var height: Int
        var frameRate: Double
    }

    var version: Int
    var variants: [Variant]

    func render() -> String {
        var out = "#EXTM3U\n#EXT-X-VERSION:\(version)\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        for v in variants.sorted(by: { ($0.height, $0.peakBitrate) > ($1.height, $1.peakBitrate) }) {
            out += "#EXT-X-STREAM-INF:BANDWIDTH=\(v.peakBitrate),AVERAGE-BANDWIDTH=\(v.averageBitrate),"
            out += "CODECS=\"\(v.codecs)\",RESOLUTION=\(v.width)x\(v.height),FRAME-RATE=\(String(format: "%.3f", v.frameRate))\n"
            out += v.uri + "\n"
        }
        return out
    }
}
