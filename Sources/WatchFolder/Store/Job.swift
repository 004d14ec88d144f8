public import Foundation
public import GRDB

/// One file dropped into the inbox and everything that happened to it: a row of the `job` table.
///
/// Plain `Sendable` value; the ``JobStore`` is the single source of truth and hands out copies.
public struct Job: Codable, Sendable, Hashable, Identifiable, FetchableRecord, MutablePersistableRecord {
    /// The life of a job. `queued → running → publishing → completed`; `running → queued` (retry with
    /// backoff); `running → failed` after the last attempt; `queued/running → cancelled`.
    public enum State: String, Codable, Sendable, Hashable, CaseIterable, DatabaseValueConvertible {
        case queued, running, publishing, completed, failed, cancelled

        /// Completed, failed or cancelled: nothing more happens without `retry`.
        public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
    }

    public static let databaseTableName = "job"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public enum Columns {
        public static let id = Column("id")
        public static let sourcePath = Column("source_path")
        public static let state = Column("state")
        public static let createdAt = Column("created_at")
        public static let nextAttemptAt = Column("next_attempt_at")
        public static let startedAt = Column("started_at")
        public static let finishedAt = Column("finished_at")
        public static let cancelRequested = Column("cancel_requested")
        public static let released = Column("released")
    }

    public var id: Int64?
    /// Path of the source relative to the inbox (`a/b/clip.mp4`).
    public var sourcePath: String
    public var device: Int64
    public var inode: Int64
    public var size: Int64
    public var mtimeNs: Int64
    public var state: State
    /// Attempts started so far; incremented when a job is claimed, so a file that kills the daemon counts.
    public var attempts: Int
    /// The last failure, one line.
    public var error: String?
    /// 0...1 while running.
    public var progress: Double
    /// While running: media seconds per wall second, as the engine last reported it.
    public var speed: Double?
    /// While running: seconds left, as the engine last estimated them.
    public var etaSeconds: Double?
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// A queued job is not claimed before this (retry backoff).
    public var nextAttemptAt: Date?
    /// Where the package was (or is being) published: a path under the outbox, or an S3 key prefix.
    public var outputLocation: String?
    /// URL or path of the master playlist once published.
    public var masterLocation: String?
    /// The video encoder of the last attempt (`libx264`, `h264_nvenc`...).
    public var encoder: String?
    /// The engine's package manifest (JSON) once the transcode succeeded.
    public var manifest: String?
    /// `watchfolder cancel` asked the daemon to stop this running job.
    public var cancelRequested: Bool
    /// The source has left the inbox (archived, deleted, moved to failed): the same bytes dropped again are a new job.
    public var released: Bool
    /// The text of the video's metadata sidecar (`STEM.json`, a JSON object), passed through as `metadata`.
    public var metadata: String?
    /// The node that runs (or last ran) the job; nil while it is queued.
    public var node: String?
    /// While running or publishing: the token of the lease its node holds. Every write the node makes for the job
    /// carries it, and the store refuses it once the lease has moved (another node took the job over).
    public var leaseToken: Int64?
    /// While running or publishing: when the lease ends unless its node renews it.
    public var leaseExpiresAt: Date?

    /// The file name of the source, without its folders.
    public var sourceName: String { (sourcePath as NSString).lastPathComponent }

    public init(sourcePath: String, device: Int64, inode: Int64, size: Int64, mtimeNs: Int64, now: Date = Date()) {
        self.sourcePath = sourcePath
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNs = mtimeNs
        self.state = .queued
        self.attempts = 0
        self.progress = 0
        self.createdAt = now
        self.updatedAt = now
        self.cancelRequested = false
        self.released = false
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension DerivableRequest<Job> {
    /// Jobs in `state`.
    public func inState(_ state: Job.State) -> Self { filter(Job.Columns.state == state) }
    /// Oldest first: FIFO by arrival.
    public func oldestFirst() -> Self { order(Job.Columns.createdAt, Job.Columns.id) }
    public func newestFirst() -> Self { order(Job.Columns.id.desc) }
}
