/// `manifest.json`: what a package contains and how it was made. Returned by ``Transcoder/transcode(_:progress:)``.
public struct PackageManifest: Sendable, Codable, Hashable {
    /// One HLS rendition.
    public struct Rendition: Sendable, Codable, Hashable {
        /// `720p`: also the folder of its playlist and segments.
        public var name: String
        public var width: Int
        public var height: Int
        /// Target video bitrate, bits per second.
        public var bitrate: Int
        /// Measured peak segment bitrate (the master's BANDWIDTH).
        public var peakBandwidth: Int
        /// Measured average bitrate (the master's AVERAGE-BANDWIDTH).
        public var averageBandwidth: Int
        /// Bytes of all its segments (and init segment).
        public var bytes: Int64
        /// Relative path of its media playlist: `720p/index.m3u8`.
        public var playlist: String
        public var segments: Int
        /// The CODECS attribute: `avc1.64001F,mp4a.40.2`; `hvc1.2.4.L120.90,mp4a.40.2` for an HEVC HDR rung.
        public var codecs: String
        /// The VIDEO-RANGE attribute: `SDR`, or `PQ` / `HLG` for an HEVC rung that keeps the source's HDR (absent
        /// in manifests written before `hdr = "keep"`, which were all SDR).
        public var videoRange: VideoRange?
        /// Relative path of its I-frame playlist (`720p/iframes.m3u8`: byte ranges of its own segments, one per
        /// keyframe); absent in manifests written before I-frame playlists.
        public var iframePlaylist: String?
        /// The I-frame stream's peak bitrate (its `#EXT-X-I-FRAME-STREAM-INF` BANDWIDTH).
        public var iframeBandwidth: Int?
    }

    /// One audio rendition (a source with two or more audio streams): `#EXT-X-MEDIA:TYPE=AUDIO` in the master.
    public struct AudioRendition: Sendable, Codable, Hashable {
        /// `audio_en`, `audio_en_2`, `audio_und`: also the folder of its playlist and segments.
        public var name: String
        /// BCP 47 (`en`, `fr`, `und`): the LANGUAGE attribute.
        public var language: String
        /// The NAME attribute: the stream's title, else the language's English name, else `Track N`.
        public var title: String
        /// The DEFAULT attribute.
        public var isDefault: Bool
        /// Encoded channels: the CHANNELS attribute.
        public var channels: Int
        /// `mp4a.40.2`.
        public var codecs: String
        /// The source stream it was made from.
        public var sourceStreamIndex: Int
        /// Relative path of its media playlist: `audio_en/index.m3u8`.
        public var playlist: String
        public var segments: Int
        public var bytes: Int64
        public var peakBandwidth: Int
        public var averageBandwidth: Int

        enum CodingKeys: String, CodingKey {
            case name, language, title, isDefault = "default", channels, codecs, sourceStreamIndex, playlist, segments, bytes
            case peakBandwidth, averageBandwidth
        }
    }

    /// One subtitle rendition: `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs"` in the master, an AdaptationSet in
    /// `manifest.mpd`. Made from a text subtitle stream of the source or from a sidecar file (`clip.pt-BR.srt`).
    public struct SubtitleRendition: Sendable, Codable, Hashable {
        /// `subs_en`, `subs_pt-BR`, `subs_en_2`, `subs_und`: also the folder of its playlist and segments.
        public var name: String
        /// BCP 47 (`en`, `pt-BR`, `und`): the LANGUAGE attribute.
        public var language: String
        /// The NAME attribute: the stream's title, else the language's English name, else `Subtitles N`.
        public var title: String
        /// The DEFAULT attribute.
        public var isDefault: Bool
        /// The source stream it was made from; nil for a sidecar.
        public var sourceStreamIndex: Int?
        /// The sidecar file it was made from (`clip.en.srt`); nil for a stream of the source.
        public var sidecar: String?
        /// Relative path of its media playlist of WebVTT segments: `subs_en/index.m3u8`.
        public var playlist: String
        public var segments: Int
        /// Relative path of the whole track as one WebVTT file (what `manifest.mpd` points at): `subs_en/subtitles.vtt`.
        public var vtt: String
        public var cues: Int

        enum CodingKeys: String, CodingKey {
            case name, language, title, isDefault = "default", sourceStreamIndex, sidecar, playlist, segments, vtt, cues
        }
    }

    /// The storyboard: WebVTT cues pointing into JPEG sprite sheets (`#xywh=x,y,w,h`).
    public struct Storyboard: Sendable, Codable, Hashable {
        /// Relative path: `storyboard.vtt`.
        public var vtt: String
        /// Relative paths: `storyboard_01.jpg`...
        public var sheets: [String]
        /// Seconds between cues (`storyboard_seconds`, widened for long sources).
        public var intervalSeconds: Double
    }

    /// Seconds spent in each phase.
    public struct Timings: Sendable, Codable, Hashable {
        public var probeSeconds: Double
        public var transcodeSeconds: Double
        public var packageSeconds: Double
        public var totalSeconds: Double
        /// Media seconds per wall second.
        public var speed: Double
    }

    public var version: Int = 1
    /// The daemon job that owns the package (`job_id`); absent in packages made by `watchfolder transcode`. A package
    /// folder or bucket prefix is only ever this job's "already published" package when it names this job.
    public var jobID: Int64?
    public var source: MediaInfo
    public var renditions: [Rendition]
    /// Output duration (sum of the top rendition's segments), seconds.
    public var durationSeconds: Double
    /// The source video's duration, seconds.
    public var sourceDurationSeconds: Double
    /// `libx264`, `h264_nvenc`...: the encoder that produced the package (after any CPU fallback).
    public var encoder: String
    /// Why a GPU encoder was abandoned for libx264, when that happened.
    public var fallbackReason: String?
    /// `ts` or `fmp4` (always `fmp4` with `hdr = "keep"`).
    public var segmentFormat: String
    public var segmentSeconds: Double
    public var hasAudio: Bool
    /// The audio renditions, when the source has two or more audio streams (the video renditions are then video
    /// only); absent when its one audio stream is muxed into every video rendition.
    public var audioRenditions: [AudioRendition]?
    /// Audio streams of the source left out because it has more than `max_audio_tracks`; absent when none.
    public var audioStreamsIgnored: Int?
    /// The subtitle renditions; absent when there are none.
    public var subtitleRenditions: [SubtitleRendition]?
    /// Relative path of the master playlist: `master.m3u8`.
    public var master: String = "master.m3u8"
    /// Relative path of the DASH manifest (`manifest.mpd`, fMP4 packages with `[outbox] dash` on); absent otherwise.
    public var dash: String?
    /// Every file of the package but `manifest.json` itself, as relative paths, sorted; absent in packages written
    /// before it was listed.
    public var files: [String]?
    /// Relative paths: `thumbnails/thumb_01.jpg`...
    public var thumbnails: [String]
    /// Relative path: `poster.jpg`.
    public var poster: String?
    /// Absent in packages without a decoded picture, and in those written before storyboards.
    public var storyboard: Storyboard?
    /// Damaged packets or frames skipped while decoding.
    public var decodeErrors: Int
    public var timings: Timings

    enum CodingKeys: String, CodingKey {
        case version, jobID = "job_id", source, renditions, durationSeconds, sourceDurationSeconds, encoder, fallbackReason
        case segmentFormat, segmentSeconds, hasAudio, audioRenditions, audioStreamsIgnored, subtitleRenditions, master, dash, files
        case thumbnails, poster, storyboard
        case decodeErrors, timings
    }
}
