/// What the ladder does with an HDR (PQ or HLG) source (`[transcode] hdr`).
public enum HDRMode: String, Sendable, Codable, CaseIterable {
    /// Tone-map to SDR BT.709 for the H.264 ladder (the default).
    case tonemap
    /// The tone-mapped H.264 ladder, and beside it HEVC Main10 renditions (720p and up) that keep the source's
    /// PQ or HLG. Packages are fragmented MP4 (HEVC in HLS is `hvc1` in fMP4).
    case keep
}
