/// Which libavformat demuxers the engine opens: real media containers only. Playlists, manifests and every other
/// indirection (hls, dash, concat, image sequences, subtitles, text) are refused before libav opens them, by name.
enum FormatPolicy {
    /// Demuxer names (as in `ffmpeg -demuxers`): the MP4/MOV family, Matroska/WebM, MPEG-TS/PS and elementary
    /// MPEG video, AVI, MXF, FLV, Ogg, ASF/WMV, DV, and audio-only files (refused later with their own reason).
    static let demuxers: Set<String> = [
        "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "mpegts", "mpeg", "mpegvideo", "avi", "mxf", "flv",
        "ogg", "asf", "dv", "wav", "w64", "mp3", "aac", "flac", "aiff", "caf", "ac3", "eac3",
    ]

    /// `format_whitelist` for `avformat_open_input`.
    static let whitelist = demuxers.sorted().joined(separator: ",")

    /// True when demuxer `name` (possibly a list: `mov,mp4,m4a,3gp,3g2,mj2`) is a media container the engine reads.
    static func allows(_ name: String) -> Bool {
        name.split(separator: ",").contains { demuxers.contains(String($0)) }
    }

    /// What a refused demuxer reads, in words: `hls playlist`, `dash manifest`, `concat script`...
    static func describe(_ name: String) -> String {
        let first = name.split(separator: ",").first.map(String.init) ?? name
        switch first {
        case "hls", "applehttp": return "hls playlist"
        case "dash", "webm_dash_manifest": return "dash manifest"
        case "concat": return "concat script"
        case "ffmetadata": return "ffmetadata file"
        case "sdp", "rtp", "rtsp": return "\(first) session description"
        case "tty": return "text file"
        case "image2", "image2pipe": return "image sequence"
        case "srt", "webvtt", "ass", "subviewer", "subviewer1", "microdvd", "mpl2", "sami", "stl", "jacosub", "realtext",
             "pjs", "vplayer", "aqtitle", "lrc", "scc", "mcc":
            return "\(first) subtitles"
        default:
            if first.hasSuffix("_pipe") { return "\(first.dropLast(5)) image" }
            return "\(first) format"
        }
    }
}
