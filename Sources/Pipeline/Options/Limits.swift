/// What one source may cost the engine (`[limits]` in the config). Every bound fails the job with a reason that
/// names it; none is ever exceeded silently.
public struct Limits: Sendable, Hashable, Codable {
    /// The probe (open, stream detection, frame-timing scan) must finish within this many seconds.
    public var probeSeconds: Double
    /// A transcode that decodes nothing for this many seconds fails with `stalled`.
    public var stallSeconds: Double
    /// Longest source (header duration) and output accepted, in seconds.
    public var maxDurationSeconds: Double
    /// Largest frame, in pixels (width x height); also every decoder's libav `max_pixels`.
    public var maxPixels: Int
    /// Most streams a container may declare.
    public var maxStreams: Int
    /// A timestamp gap up to this long is filled with repeated frames (constant frame rate); a longer jump is
    /// closed: the output continues from the next frame.
    public var maxGapSeconds: Double
    /// The fixed part of the output byte bound (16 MiB): a job writes at most
    /// (sum over renditions of maxrate + audio bitrate) / 8 x output seconds x 2 + this.
    var outputSlackBytes: Int64 = 16 << 20

    public init(probeSeconds: Double = 30, stallSeconds: Double = 120, maxDurationSeconds: Double = 43_200,
                maxPixels: Int = 8192 * 4320, maxStreams: Int = 64, maxGapSeconds: Double = 10) {
        self.probeSeconds = probeSeconds
        self.stallSeconds = stallSeconds
        self.maxDurationSeconds = maxDurationSeconds
        self.maxPixels = maxPixels
        self.maxStreams = maxStreams
        self.maxGapSeconds = maxGapSeconds
    }

    enum CodingKeys: String, CodingKey {
        case probeSeconds, stallSeconds, maxDurationSeconds, maxPixels, maxStreams, maxGapSeconds
    }
}
