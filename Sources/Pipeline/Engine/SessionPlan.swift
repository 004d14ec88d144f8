import Foundation

/// Everything one decode-once pass needs (built by ``Transcoder`` from the probe and the plan).
struct SessionPlan {
    /// The source, opened once; every pass reads this descriptor.
    var source: SourceFile
    var name: String
    var info: MediaInfo
    var rungs: [PlannedRung]
    /// The audio renditions (two or more, each in its own folder), or empty: the one audio stream
    /// (``MediaInfo/audio``) is muxed into every rung.
    var audioTracks: [PlannedAudioTrack] = []
    /// The source's text subtitle streams to read in the pass (``PlannedSubtitleTrack/streamIndex``).
    var subtitleStreams: [Int] = []
    var encoder: String
    var options: TranscodeOptions
    var workDirectory: URL
    /// Thumbnail times in output seconds, ascending.
    var thumbnailTimes: [Double]
    var posterTime: Double
    var storyboard: Storyboard
}
