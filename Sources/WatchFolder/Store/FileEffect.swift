public import Foundation
public import GRDB

/// A file operation that must follow a transition (archive, delete, move to failed, move back for retry):
/// a row of the `effect` table written in the transition's transaction and carried out after it commits,
/// idempotently, until it is marked done. A kill -9 at any moment converges.
///
/// Moves never replace anything: `target` is the preferred name; when something else has it, the runner picks the
/// next free one (`NAME-<job id>.EXT`, `NAME-<job id>-2.EXT`...) and records it in `placed` before it moves, so a run
/// after a crash finishes the same move instead of choosing yet another name.
public struct FileEffect: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable, DatabaseValueConvertible {
        /// Move `source` to `target` (the archive, keeping the relative path).
        case archive
        /// Unlink `source`.
        case delete
        /// Write `<placed>.error.txt` with `note`, then move `source` to `placed` (the failed folder).
        case fail
        /// Move `source` (in the failed folder) back to `target` (the inbox) and remove its error file. Placing it
        /// under another name also renames the job's source.
        case restore
    }

    public static let databaseTableName = "effect"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public enum Columns {
        static let jobId = Column("job_id")
        static let kind = Column("kind")
        static let doneAt = Column("done_at")
    }

    public var id: Int64?
    public var jobId: Int64
    public var kind: Kind
    /// Absolute path of the file to act on.
    public var source: String
    /// Absolute destination, when the effect moves the file: the preferred name.
    public var target: String?
    /// The name the move uses: `target`, or the next free name when `target` was taken. Nil until chosen.
    public var placed: String?
    /// Device and inode of the job's file: a different file now at `source` is left alone.
    public var device: Int64
    public var inode: Int64
    /// The error file's text (`fail`).
    public var note: String?
    public var createdAt: Date
    public var doneAt: Date?

    public init(jobId: Int64, kind: Kind, source: URL, target: URL?, placed: URL? = nil, device: Int64, inode: Int64,
                note: String? = nil, now: Date = Date()) {
        self.jobId = jobId
        self.kind = kind
        self.source = source.path
        self.target = target?.path
        self.placed = placed?.path
        self.device = device
        self.inode = inode
        self.note = note
        self.createdAt = now
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
