/// What the pass produced, for the playlists and the manifest.
struct SessionResult {
    /// `avc1.PPCCLL` (H.264) or `hvc1.2.4.L120.90` (HEVC, `hdr = "keep"`) per rung.
    var videoCodecs: [String]
    var hasAudio: Bool
    /// The audio renditions written (their decoder opened), or empty: audio muxed into the rungs.
    var audioTracks: [PlannedAudioTrack]
    var videoFrames: Int
    var outputSeconds: Double
    /// End of the last decoded video frame, and the video stream's own declared duration (0 when the container
    /// declares only its total, as Matroska does), in seconds.
    var videoSeconds: Double
    var declaredVideoSeconds: Double
    var decodeErrors: Int
    /// Source time removed by closing timestamp jumps longer than `max_gap_seconds` (video).
    var closedGapSeconds: Double
    var thumbnails: [String]
    var poster: String?
    /// `storyboard_01.jpg`... then `storyboard.vtt`, relative to the package; empty when no picture was decoded.
    var storyboard: [String]
    var storyboardInterval: Double
    /// The cues of each subtitle stream read (its decoder opened), by stream index.
    var subtitleCues: [Int: [SubtitleCue]] = [:]
}
