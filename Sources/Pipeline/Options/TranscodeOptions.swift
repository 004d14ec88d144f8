/// One rung of the bitrate ladder: an output height and its rate control.
public struct Rung: Sendable, Hashable, Codable {
    /// Output height in pixels (the width follows the display aspect).
    public var height: Int
    /// Target average video bitrate, bits per second.
    public var videoBitrate: Int
    /// VBV maximum rate, bits per second.
    public var maxrate: Int
    /// VBV buffer size, bits.
    public var bufsize: Int

    /// A rung whose maxrate and bufsize default to 1.07x and 1.5x the bitrate.
    public init(height: Int, videoBitrate: Int, maxrate: Int? = nil, bufsize: Int? = nil) {
        self.height = height
        self.videoBitrate = videoBitrate
        self.maxrate = maxrate ?? Int((Double(videoBitrate) * 1.07).rounded())
        self.bufsize = bufsize ?? Int((Double(videoBitrate) * 1.5).rounded())
    }

    /// 1080/720/480/360 at 5000/2800/1400/800 kbit/s.
    public static let defaultLadder: [Rung] = [
        Rung(height: 1080, videoBitrate: 5_000_000),
        Rung(height: 720, videoBitrate: 2_800_000),
        Rung(height: 480, videoBitrate: 1_400_000),
        Rung(height: 360, videoBitrate: 800_000),
    ]
}

/// How media segments are muxed.
public enum SegmentFormat: String, Sendable, Codable, CaseIterable {
    /// MPEG-TS segments (`.ts`).
    case ts
    /// CMAF-style fragmented MP4 (`init.mp4` + `.m4s`).
    case fmp4
}

/// Which H.264 encoder family to use.
public enum HardwarePreference: String, Sendable, Codable, CaseIterable {
    /// The first GPU encoder that opens, else libx264.
    case auto
    /// libx264 only.
    case cpu
    /// NVIDIA NVENC (`h264_nvenc`).
    case nvenc
    /// VA-API (`h264_vaapi`).
    case vaapi
    /// Intel Quick Sync (`h264_qsv`).
    case qsv
}

/// Everything the engine needs to turn one source into one HLS package.
public struct TranscodeOptions: Sendable, Hashable, Codable {
    public var ladder: [Rung]
    /// libx264 preset (`veryfast`, `medium`, ...).
    public var preset: String
    public var segmentSeconds: Double
    public var segmentFormat: SegmentFormat
    /// How many evenly spaced thumbnails to write.
    public var thumbnails: Int
    /// Seconds between the storyboard's tiles (widened so that a long source has at most 400).
    public var storyboardSeconds: Int = 5
    /// AAC bitrate, bits per second.
    public var audioBitrate: Int
    /// Most audio streams of a source that become audio renditions (`max_audio_tracks`, 1...32); the streams after
    /// them are ignored (logged).
    public var maxAudioTracks: Int = 8
    public var hardware: HardwarePreference
    /// What HDR sources become (`tonemap`: SDR BT.709; `keep`: also HEVC Main10 HDR renditions, in fMP4).
    public var hdr: HDRMode = .tonemap
    /// What one source may cost (`[limits]`).
    public var limits: Limits
    /// Whether an fMP4 package also gets `manifest.mpd` (`[outbox] dash`, default on); a TS package never does.
    public var dash: Bool = true
    /// Makes a package of only the first this many seconds of the source's video (output time), then stops
    /// reading; nil (the default) or not above 0: the whole source. Audio is cut at the same time. Not a config
    /// key: for harnesses that feed the engine hostile bytes (the fuzzer) and previews. Unlike
    /// ``Limits/maxDurationSeconds``, which fails a longer source, this ends the package at N seconds and succeeds.
    public var stopAfterSeconds: Double?

    public init(
        ladder: [Rung] = Rung.defaultLadder,
        preset: String = "veryfast",
        segmentSeconds: Double = 6,
        segmentFormat: SegmentFormat = .ts,
        thumbnails: Int = 10,
        storyboardSeconds: Int = 5,
        audioBitrate: Int = 128_000,
        hardware: HardwarePreference = .auto,
        limits: Limits = Limits(),
        stopAfterSeconds: Double? = nil
    ) {
        self.ladder = ladder
        self.preset = preset
        self.segmentSeconds = segmentSeconds
        self.segmentFormat = segmentFormat
        self.thumbnails = thumbnails
        self.storyboardSeconds = storyboardSeconds
        self.audioBitrate = audioBitrate
        self.hardware = hardware
        self.limits = limits
        self.stopAfterSeconds = stopAfterSeconds
    }

    /// The segments the package is cut into: fMP4 whenever `hdr` is `keep` (whatever the source), as HEVC in HLS
    /// is carried in fMP4 and one package uses one segment format; else ``segmentFormat``.
    public var packagedSegmentFormat: SegmentFormat { hdr == .keep ? .fmp4 : segmentFormat }

    /// True when the package gets `manifest.mpd`: fMP4 segments and ``dash`` on. Its audio is then always in
    /// renditions of its own (CMAF: one track per file), even a single audio stream.
    public var writesDash: Bool { packagedSegmentFormat == .fmp4 && dash }

    /// ``stopAfterSeconds`` when it cuts the source short (above 0), else nil.
    var stopAt: Double? { stopAfterSeconds.flatMap { $0 > 0 ? $0 : nil } }
}
