/// What the engine sees in a source file (`watchfolder probe`, and the `source` of `manifest.json`).
public struct MediaInfo: Sendable, Codable, Hashable {
    /// The file name (last path component).
    public var file: String
    /// The demuxer's short name(s): `mov,mp4,m4a,3gp,3g2,mj2`, `mpegts`, `avi`...
    public var container: String
    /// Container duration in seconds (0 when unknown).
    public var durationSeconds: Double
    /// Overall bitrate in bits per second, when the container knows it.
    public var bitRate: Int?
    public var sizeBytes: Int64
    /// Every stream in the file.
    public var streams: [Stream]
    /// The video stream the engine transcodes.
    public var video: Video
    /// The audio stream libavformat ranks best, if any: the one a package with a single audio track carries.
    public var audio: Audio?
    /// Every decodable audio stream, in stream order: each becomes an audio rendition (up to `max_audio_tracks`)
    /// when there are two or more. Absent in manifests written before audio languages.
    public var audioStreams: [Audio]?
    /// Every text subtitle stream (mov_text, SubRip, ASS/SSA, WebVTT) with a decoder, in stream order: each becomes a
    /// subtitle rendition (up to 32). Absent when there is none, and in manifests written before subtitles.
    public var subtitleStreams: [Subtitle]?

    /// One stream of the container.
    public struct Stream: Sendable, Codable, Hashable {
        public var index: Int
        /// `video`, `audio`, `subtitle`, `data`, `attachment`.
        public var type: String
        public var codec: String
    }

    /// A rational number (sample or display aspect ratio, frame rate).
    public struct Ratio: Sendable, Codable, Hashable, CustomStringConvertible {
        public var num: Int
        public var den: Int
        public init(_ num: Int, _ den: Int) { self.num = num; self.den = den }
        public var value: Double { den == 0 ? 0 : Double(num) / Double(den) }
        public var description: String { "\(num):\(den)" }
    }

    /// The transcoded video stream.
    public struct Video: Sendable, Codable, Hashable {
        public var streamIndex: Int
        public var codec: String
        public var profile: String?
        /// `yuv420p`, `yuv422p10le`...
        public var pixelFormat: String
        /// Bits per component (8, 10, 12).
        public var bitDepth: Int
        /// `4:2:0`, `4:2:2`, `4:4:4`.
        public var chroma: String
        /// Coded size, in stored pixels.
        public var width: Int
        public var height: Int
        /// Sample (pixel) aspect ratio; 1:1 for square pixels.
        public var sampleAspect: Ratio
        /// Display aspect ratio of the picture as stored (before rotation).
        public var displayAspect: Ratio
        /// Frames per second the output will have (the source's rate, or its average for VFR).
        public var frameRate: Double
        /// `frameRate` as an exact ratio (`30000:1001`).
        public var frameRateRatio: Ratio
        /// The source's own rate as an exact ratio (`120:1` for slow motion the output plays at `60:1`).
        public var sourceFrameRateRatio: Ratio?
        /// The container's average frame rate.
        public var averageFrameRate: Double
        /// True when frame durations vary (phone clips, screen recordings).
        public var variableFrameRate: Bool
        /// `progressive`, `tt`, `bb`, `tb`, `bt` or `unknown`.
        public var fieldOrder: String
        /// True when the source is interlaced (deinterlaced when transcoding).
        public var interlaced: Bool
        /// Clockwise rotation to apply for display (0, 90, 180, 270), from the display matrix or `rotate` tag.
        public var rotation: Int
        /// Size as displayed: square pixels, after rotation.
        public var displayWidth: Int
        public var displayHeight: Int
        /// Duration of the video stream in seconds.
        public var durationSeconds: Double
        /// The source's colour, and what the ladder does with it.
        public var colour: Colour?
    }

    /// A video stream's colour description (names as libavutil and ffprobe spell them).
    public struct Colour: Sendable, Codable, Hashable {
        /// `bt709`, `smpte170m` (BT.601), `bt2020`...; an untagged field reads as the value assumed.
        public var primaries: String
        /// `bt709`, `smpte170m`, `smpte2084` (PQ), `arib-std-b67` (HLG)...
        public var transfer: String
        /// `bt709`, `smpte170m`, `bt470bg`, `bt2020nc`...
        public var matrix: String
        /// `tv` (limited) or `pc` (full).
        public var range: String
        /// `sdr`, `pq` (HDR10) or `hlg`.
        public var hdr: String
        /// The Dolby Vision profile when the stream carries one (8 on iPhones: read as its base layer).
        public var dolbyVisionProfile: Int?
        /// True when the source lacked a tag and one was assumed from the picture height.
        public var assumed: Bool
        /// What the H.264 ladder does: `tagged BT.709`, `converted from BT.601 to BT.709 limited range`...; with
        /// `hdr = "keep"` and a PQ or HLG source, also which HEVC renditions keep its HDR (`...; HLG kept in HEVC
        /// Main10 (10-bit, BT.2020): 1080p-hlg, 720p-hlg`), or that none does (under 720 lines).
        public var ladder: String
    }

    /// The transcoded audio stream.
    public struct Audio: Sendable, Codable, Hashable {
        public var streamIndex: Int
        public var codec: String
        public var sampleRate: Int
        public var channels: Int
        /// `stereo`, `5.1(side)`, `mono`...
        public var layout: String
        public var bitRate: Int?
        /// The stream's `language` tag as written (`eng`, `fre`), if any.
        public var languageTag: String?
        /// The stream's `title` tag, if any.
        public var title: String?
        /// True when the container marks it as the default audio stream.
        public var isDefault: Bool?
    }

    /// A text subtitle stream.
    public struct Subtitle: Sendable, Codable, Hashable {
        public var streamIndex: Int
        /// `mov_text`, `subrip`, `ass`, `ssa`, `webvtt`, `text`.
        public var codec: String
        /// The stream's `language` tag as written (`eng`), if any.
        public var languageTag: String?
        /// The stream's `title` tag, if any.
        public var title: String?
        /// True when the container marks it as the default subtitle stream.
        public var isDefault: Bool
    }
}

extension MediaInfo.Subtitle {
    /// The text subtitle codecs that become renditions (picture subtitles, DVD and PGS, do not).
    static let textCodecs: Set<String> = ["mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text"]
}
