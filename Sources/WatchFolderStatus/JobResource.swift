import Foundation
import Pipeline
import WatchFolder

/// A job as the API shows it: the shared ``JobPayload`` fields plus live figures and links.
struct JobResource: Encodable, Sendable {
    var id: Int64
    var source: String
    var state: String
    var attempts: Int
    var progress: Double
    var error: String?
    var encoder: String?
    var output: String?
    var master: String?
    /// `master` when it is an http(s) URL (S3/CloudFront); nil for an outbox path.
    var masterURL: String?
    var cancelRequested: Bool
    /// Media seconds per wall second while running, or of the finished transcode.
    var speed: Double?
    /// Seconds left, while running.
    var etaSeconds: Double?
    var renditions: [Rendition]?
    var poster: String?
    var thumbnails: [String]?
    /// Audio languages (a package with two or more audio renditions).
    var audio: [Track]?
    var subtitles: [Track]?
    var storyboard: StoryboardLink?
    var timings: Timings
    /// The video's metadata sidecar (`STEM.json`), passed through.
    var metadata: JSONValue?
    /// The node that runs (or ran) the job: null while it is queued.
    var node: JSONValue

    struct Rendition: Encodable, Sendable {
        var name: String
        var width: Int?
        var height: Int?
        var bitrate: Int?
        var codecs: String?
        /// Relative path of its media playlist inside the package.
        var playlist: String?
        /// The playlist's URL (S3) or path (outbox).
        var url: String?
    }

    /// An audio or subtitle rendition: its NAME (a stranger's title, else the language's English name), BCP 47
    /// language and whether it is the default.
    struct Track: Encodable, Sendable {
        var language: String?
        var name: String?
        var isDefault: Bool

        enum CodingKeys: String, CodingKey { case language, name, isDefault = "default" }

        init(_ track: ManifestView.Track) {
            language = track.language
            name = track.label
            isDefault = track.isDefault ?? false
        }
    }

    /// The storyboard's WebVTT, as served by ``StatusRoutes/storyboard(_:_:)``: its cues point at sheets relative to
    /// it, so they are served from beside it.
    struct StoryboardLink: Encodable, Sendable {
        var vtt: String
        var intervalSeconds: Double?

        enum CodingKeys: String, CodingKey { case vtt, intervalSeconds = "interval_seconds" }
    }

    struct Timings: Encodable, Sendable {
        var createdAt: String
        var startedAt: String?
        var finishedAt: String?
        var updatedAt: String
        var durationSeconds: Double?
        var probeSeconds: Double?
        var transcodeSeconds: Double?
        var packageSeconds: Double?
        var mediaSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at", updatedAt = "updated_at"
            case durationSeconds = "duration_seconds", probeSeconds = "probe_seconds"
            case transcodeSeconds = "transcode_seconds", packageSeconds = "package_seconds", mediaSeconds = "media_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, source, state, attempts, progress, error, encoder, output, master, speed, renditions, poster, thumbnails, timings
        case metadata, audio, subtitles, storyboard, node
        case masterURL = "master_url", cancelRequested = "cancel_requested", etaSeconds = "eta_seconds"
    }

    /// Speed and ETA are shown while the job runs, as the engine last reported them.
    init(_ job: Job) {
        let payload = JobPayload(job)
        let id = job.id ?? 0
        self.id = id
        source = job.sourcePath
        state = job.state.rawValue
        attempts = job.attempts
        progress = payload.progress
        error = job.error
        encoder = job.encoder
        output = job.outputLocation
        master = job.masterLocation
        masterURL = job.masterLocation.flatMap { $0.hasPrefix("http://") || $0.hasPrefix("https://") ? $0 : nil }
        cancelRequested = job.cancelRequested
        let live = job.state == .running || job.state == .publishing
        speed = live ? job.speed : nil
        etaSeconds = live ? job.etaSeconds : nil
        timings = Timings(createdAt: payload.createdAt, startedAt: payload.startedAt, finishedAt: payload.finishedAt,
                          updatedAt: JobResource.iso(job.updatedAt), durationSeconds: payload.durationSeconds)
        metadata = payload.metadata
        node = job.node.map(JSONValue.string) ?? .null
        guard let manifest = ManifestView(json: job.manifest) else {
            renditions = payload.renditions?.map { Rendition(name: $0) }
            return
        }
        let base = job.masterLocation.map { ($0 as NSString).deletingLastPathComponent } ?? job.outputLocation
        renditions = manifest.renditions?.map { r in
            Rendition(name: r.label ?? "?", width: r.width, height: r.height, bitrate: r.bitrate,
                      codecs: r.codecs, playlist: r.playlist,
                      url: r.playlist.flatMap { p in base.map { $0 + "/" + p } })
        }
        if manifest.poster != nil { poster = "/api/jobs/\(id)/poster" }
        if let thumbs = manifest.thumbnails, !thumbs.isEmpty {
            thumbnails = (1...thumbs.count).map { "/api/jobs/\(id)/thumbnails/\($0)" }
        }
        if let tracks = manifest.audioRenditions, !tracks.isEmpty { audio = tracks.map(Track.init) }
        if let tracks = manifest.subtitleRenditions, !tracks.isEmpty { subtitles = tracks.map(Track.init) }
        if let vtt = manifest.storyboard?.vtt, let name = StoryboardFiles.servedName(vtt) {
            storyboard = StoryboardLink(vtt: "/api/jobs/\(id)/storyboard/\(name)", intervalSeconds: manifest.storyboard?.intervalSeconds)
        }
        timings.probeSeconds = manifest.timings?.probeSeconds
        timings.transcodeSeconds = manifest.timings?.transcodeSeconds
        timings.packageSeconds = manifest.timings?.packageSeconds
        timings.mediaSeconds = manifest.durationSeconds
        if job.state == .completed || job.state == .publishing { speed = manifest.timings?.speed }
    }
}

extension JobResource {
    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }
}
