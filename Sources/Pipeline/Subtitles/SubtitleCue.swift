/// One subtitle cue on the package's presentation timeline (milliseconds from the first video frame), its text as a
/// WebVTT cue payload (escaped, no blank line, no `-->`).
struct SubtitleCue: Sendable, Hashable {
    var start: Int64
    var end: Int64
    var text: String

    /// The bounds on what a stranger's subtitles may cost.
    enum Bounds {
        /// The largest sidecar file read.
        static let maxFileBytes = 4 * 1024 * 1024
        /// Cues per track.
        static let maxCues = 100_000
        /// Bytes of one cue's text (longer text is cut at a character boundary).
        static let maxTextBytes = 4 * 1024
        /// Text subtitle streams of the source made into renditions; the rest are counted and logged.
        static let maxStreams = 32
    }

    /// The cues of one track made fit for the package lasting `durationMilliseconds`: times clamped to
    /// [0, duration], cues that end up empty (end <= start, or wholly past the end) dropped, ordered by start.
    static func fitted(_ cues: [SubtitleCue], durationMilliseconds: Int64) -> [SubtitleCue] {
        let end = max(0, durationMilliseconds)
        return cues.compactMap { cue -> SubtitleCue? in
            var c = cue
            c.start = min(max(0, c.start), end)
            c.end = min(max(0, c.end), end)
            return c.end > c.start && !c.text.isEmpty ? c : nil
        }.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
    }
}
