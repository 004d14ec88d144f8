/// A file beside a job's video with its stem (`clip.json`, `clip.en.srt`), recorded with the job when intake
/// recorded the video (a row of the store's `sidecar` table). It follows the video to the archive, the failed folder or
/// deletion, and is listed in the package's `manifest.json`.
public struct Sidecar: Codable, Sendable, Hashable {
    /// The largest metadata sidecar (`STEM.json`): 64 KiB.
    public static let maxMetadataBytes = 64 * 1024
    /// The largest subtitle sidecar (`.srt`, `.vtt`): 4 MiB, what the engine reads (a feature film's SubRip is ~100 KB).
    public static let maxSubtitleBytes: Int64 = 4 * 1024 * 1024

    public var jobId: Int64
    /// The file name, beside the video (no folder).
    public var name: String
    /// `json`, `srt` or `vtt`.
    public var format: String
    /// The BCP 47 tag of a `STEM.LANG.srt`/`.vtt`; nil otherwise.
    public var language: String?
    public var bytes: Int64
    public var device: Int64
    public var inode: Int64
    public var mtimeNs: Int64
    /// Why the job cannot use it (one line naming the file); the job fails with it.
    public var error: String?

    /// `metadata` (`STEM.json`) or `subtitles`.
    public var kind: String { format == "json" ? "metadata" : "subtitles" }

    public init(name: String, format: String, language: String?, bytes: Int64, device: Int64, inode: Int64,
                mtimeNs: Int64, error: String? = nil, jobId: Int64 = 0) {
        self.jobId = jobId
        self.name = name
        self.format = format
        self.language = language
        self.bytes = bytes
        self.device = device
        self.inode = inode
        self.mtimeNs = mtimeNs
        self.error = error
    }
}
