public import Foundation

/// A package's `manifest.json` (also stored with its job) as the daemon's CLI, the API, webhooks and metrics read it: the fields
/// of ``PackageManifest`` they show, every one optional. Tolerant on purpose: a stored manifest may come
/// from another builder (the publisher keeps whatever a package's `manifest.json` holds, adding `job_id`) or from an
/// older engine, and a missing field must not hide the others.
public struct ManifestView: Decodable, Sendable, Hashable {
    /// One rendition, as ``PackageManifest/Rendition``.
    public struct Rendition: Decodable, Sendable, Hashable {
        public var name: String?
        public var width: Int?
        public var height: Int?
        public var bitrate: Int?
        public var codecs: String?
        /// Relative path of its media playlist inside the package.
        public var playlist: String?
        /// Bytes of its segments.
        public var bytes: Int64?

        /// `name`, else `height` as `NNNp`.
        public var label: String? { name ?? height.map { "\($0)p" } }

        enum CodingKeys: String, CodingKey { case name, width, height, bitrate, codecs, playlist, bytes }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try? c.decodeIfPresent(String.self, forKey: .name)
            width = try? c.decodeIfPresent(Int.self, forKey: .width)
            height = try? c.decodeIfPresent(Int.self, forKey: .height)
            bitrate = try? c.decodeIfPresent(Int.self, forKey: .bitrate)
            codecs = try? c.decodeIfPresent(String.self, forKey: .codecs)
            playlist = try? c.decodeIfPresent(String.self, forKey: .playlist)
            bytes = try? c.decodeIfPresent(Int64.self, forKey: .bytes)
        }
    }

    /// One audio or subtitle rendition, as ``PackageManifest/AudioRendition`` and ``PackageManifest/SubtitleRendition``:
    /// what a person picks a track by.
    public struct Track: Decodable, Sendable, Hashable {
        /// `audio_en`, `subs_pt-BR`: the folder of its playlist.
        public var name: String?
        /// BCP 47 (`en`, `pt-BR`, `und`).
        public var language: String?
        /// The master playlist's NAME: the stream's title, else the language's English name. A stranger's text.
        public var title: String?
        public var isDefault: Bool?

        /// `title`, else `name`.
        public var label: String? { title ?? name }

        enum CodingKeys: String, CodingKey { case name, language, title, isDefault = "default" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try? c.decodeIfPresent(String.self, forKey: .name)
            language = try? c.decodeIfPresent(String.self, forKey: .language)
            title = try? c.decodeIfPresent(String.self, forKey: .title)
            isDefault = try? c.decodeIfPresent(Bool.self, forKey: .isDefault)
        }
    }

    /// The storyboard, as ``PackageManifest/Storyboard``.
    public struct Storyboard: Decodable, Sendable, Hashable {
        /// Relative path of its WebVTT: `storyboard.vtt`.
        public var vtt: String?
        /// Relative paths of its sprite sheets: `storyboard_01.jpg`...
        public var sheets: [String]?
        /// Seconds between cues.
        public var intervalSeconds: Double?

        enum CodingKeys: String, CodingKey { case vtt, sheets, intervalSeconds }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vtt = try? c.decodeIfPresent(String.self, forKey: .vtt)
            sheets = try? c.decodeIfPresent([String].self, forKey: .sheets)
            intervalSeconds = try? c.decodeIfPresent(Double.self, forKey: .intervalSeconds)
        }
    }

    /// Seconds spent in each phase, as ``PackageManifest/Timings``.
    public struct Timings: Decodable, Sendable, Hashable {
        public var probeSeconds: Double?
        public var transcodeSeconds: Double?
        public var packageSeconds: Double?
        /// Media seconds per wall second.
        public var speed: Double?

        enum CodingKeys: String, CodingKey { case probeSeconds, transcodeSeconds, packageSeconds, speed }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            probeSeconds = try? c.decodeIfPresent(Double.self, forKey: .probeSeconds)
            transcodeSeconds = try? c.decodeIfPresent(Double.self, forKey: .transcodeSeconds)
            packageSeconds = try? c.decodeIfPresent(Double.self, forKey: .packageSeconds)
            speed = try? c.decodeIfPresent(Double.self, forKey: .speed)
        }
    }

    /// The package's owner (`job_id`), once the publisher stamped it.
    public var jobID: Int64?
    public var encoder: String?
    public var renditions: [Rendition]?
    public var thumbnails: [String]?
    public var poster: String?
    /// Output duration, seconds.
    public var durationSeconds: Double?
    public var timings: Timings?
    /// Audio renditions (a source with two or more audio streams).
    public var audioRenditions: [Track]?
    public var subtitleRenditions: [Track]?
    public var storyboard: Storyboard?

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", encoder, renditions, thumbnails, poster, durationSeconds, timings
        case audioRenditions, subtitleRenditions, storyboard
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Each field on its own: one of an unexpected type (another builder's) leaves the others readable.
        jobID = try? c.decodeIfPresent(Int64.self, forKey: .jobID)
        encoder = try? c.decodeIfPresent(String.self, forKey: .encoder)
        renditions = try? c.decodeIfPresent([Rendition].self, forKey: .renditions)
        thumbnails = try? c.decodeIfPresent([String].self, forKey: .thumbnails)
        poster = try? c.decodeIfPresent(String.self, forKey: .poster)
        durationSeconds = try? c.decodeIfPresent(Double.self, forKey: .durationSeconds)
        timings = try? c.decodeIfPresent(Timings.self, forKey: .timings)
        audioRenditions = try? c.decodeIfPresent([Track].self, forKey: .audioRenditions)
        subtitleRenditions = try? c.decodeIfPresent([Track].self, forKey: .subtitleRenditions)
        storyboard = try? c.decodeIfPresent(Storyboard.self, forKey: .storyboard)
    }

    /// The manifest in `json`, or nil when it is not a JSON object.
    public init?(json: String?) {
        guard let json else { return nil }
        self.init(data: Data(json.utf8))
    }

    /// The manifest in `data`, or nil when it is not a JSON object.
    public init?(data: Data) {
        guard let view = try? JSONDecoder().decode(ManifestView.self, from: data) else { return nil }
        self = view
    }

    /// Rendition names: `renditions[].name`, else `renditions[].height` as `NNNp`.
    public var renditionNames: [String]? { renditions?.compactMap(\.label) }
}
