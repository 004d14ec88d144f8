public import Foundation
public import GRDB

/// A durable job event (`job.queued`, `job.started`, ...): a row of the `event` table, written in the same
/// transaction as the transition it announces (transactional outbox). The webhook sender reads these rows.
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

/// The JSON shape of a job shared by events and `watchfolder jobs --json`. Field names are stable.
public struct JobPayload: Codable, Sendable, Hashable {
    public var id: Int64
    public var source: String
    public var state: String
    public var attempts: Int
    public var error: String?
    public var encoder: String?
    public var progress: Double
    public var output: String?
    public var master: String?
    public var renditions: [String]?
    public var durationSeconds: Double?
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, source, state, attempts, error, encoder, progress, output, master, renditions
        case durationSeconds = "duration_seconds"
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
    }

    public init(_ job: Job) {
        id = job.id ?? 0
        source = job.sourcePath
        state = job.state.rawValue
        attempts = job.attempts
        error = job.error
        encoder = job.encoder
        progress = (job.progress * 1000).rounded() / 1000
        output = job.outputLocation
        master = job.masterLocation
        renditions = job.manifest.flatMap(Self.renditions(fromManifest:))
        if let started = job.startedAt, let finished = job.finishedAt {
            durationSeconds = (finished.timeIntervalSince(started) * 1000).rounded() / 1000
        }
        createdAt = Self.iso(job.createdAt)
        startedAt = job.startedAt.map(Self.iso)
        finishedAt = job.finishedAt.map(Self.iso)
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    /// Rendition names from a manifest: `renditions[].name`, else `renditions[].height` as `NNNp`.
    static func renditions(fromManifest json: String) -> [String]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let list = object["renditions"] as? [[String: Any]] else { return nil }
        return list.compactMap { r in
            if let name = r["name"] as? String { return name }
            if let h = r["height"] as? Int { return "\(h)p" }
            return nil
        }
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
