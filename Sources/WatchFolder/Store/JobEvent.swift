public import Foundation
public import GRDB

/// A durable job event (`job.queued`, `job.started`, ...): a row of the `event` table, written in the same
/// transaction as the transition it announces (the transactional-outbox pattern). The webhook sender reads these rows.
public struct JobEvent: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    /// The event types, named exactly as webhooks receive them.
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable, DatabaseValueConvertible {
        case queued = "job.queued"
        case started = "job.started"
        case progress = "job.progress"
        case retrying = "job.retrying"
        case completed = "job.completed"
        case failed = "job.failed"
        case cancelled = "job.cancelled"
    }

    public static let databaseTableName = "event"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Store-local sequence number (delivery order).
    public var id: Int64?
    /// Globally unique id, `evt_<uuid>`: the webhook message id, stable across redeliveries.
    public var uid: String
    public var jobId: Int64
    public var type: Kind
    /// JSON object: `id`, `source`, `state`, `attempts`, `error`, `encoder`, `progress`, `output`, `master`,
    /// `renditions`, `duration_seconds`, `created_at`, `finished_at`.
    public var payload: String
    public var createdAt: Date

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The event for `job` as it is after its transition.
    static func make(_ type: Kind, for job: Job, now: Date) -> JobEvent {
        JobEvent(uid: "evt_\(UUID().uuidString.lowercased())", jobId: job.id ?? 0, type: type,
                 payload: JobPayload(job).json(), createdAt: now)
    }
}
