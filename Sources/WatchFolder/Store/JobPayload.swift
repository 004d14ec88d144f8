import Foundation
import Pipeline

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
    /// The video's metadata sidecar (`STEM.json`), passed through as it was uploaded.
    public var metadata: JSONValue?

    enum CodingKeys: String, CodingKey {
        case id, source, state, attempts, error, encoder, progress, output, master, renditions, metadata
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
        renditions = ManifestView(json: job.manifest)?.renditionNames
        if let started = job.startedAt, let finished = job.finishedAt {
            durationSeconds = (finished.timeIntervalSince(started) * 1000).rounded() / 1000
        }
        createdAt = Self.iso(job.createdAt)
        startedAt = job.startedAt.map(Self.iso)
        finishedAt = job.finishedAt.map(Self.iso)
        metadata = job.metadata.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
