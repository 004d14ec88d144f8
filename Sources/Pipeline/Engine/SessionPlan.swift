import Foundation

/// Everything one decode-once pass needs (built by ``Transcoder`` from the probe and the plan).
struct SessionPlan {
    /// The source, opened once; every pass reads this descriptor.
    var source: SourceFile
    var name: String
    var info: MediaInfo
    var rungs: [PlannedRung]
    var encoder: String
    var options: TranscodeOptions
    var workDirectory: URL
    /// Thumbnail times in output seconds, ascending.
    var thumbnailTimes: [Double]
    var posterTime: Double
    var storyboard: Storyboard
}
