/// What a rendition's pictures are: the master playlist's `VIDEO-RANGE` (RFC 8216bis 4.4.6.2).
public enum VideoRange: String, Sendable, Codable, Hashable, CaseIterable {
    /// SDR BT.709: every H.264 rung.
    case sdr = "SDR"
    /// HDR10 (SMPTE ST 2084): an HEVC Main10 rung of a PQ source (`hdr = "keep"`).
    case pq = "PQ"
    /// Hybrid Log-Gamma: an HEVC Main10 rung of an HLG source, or of Dolby Vision profile 8.4 (`hdr = "keep"`).
    case hlg = "HLG"

    /// The range kept for a source whose colour says `hdr` (`pq`, `hlg`, `sdr`); nil for SDR.
    init?(keeping hdr: String) {
        switch hdr {
        case "pq": self = .pq
        case "hlg": self = .hlg
        default: return nil
        }
    }
}
