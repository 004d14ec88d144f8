/// What the ladder does with an HDR (PQ or HLG) source (`[transcode] hdr`).
public enum HDRMode: String, Sendable, Codable, CaseIterable {
    /// Tone-map to SDR BT.709 for the H.264 ladder (the default).
    case tonemap
    /// Also keep the HDR in HEVC Main10 renditions (not built yet: the config loader refuses it).
    case keep
}
