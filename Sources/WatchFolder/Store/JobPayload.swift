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
    /// The node that ran (or runs) the job; null while it is queued.
    public var node: String?

    enum CodingKeys: String, CodingKey {
        case id, source, state, attempts, error, encoder, progress, output, master, renditions, metadata, node
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
        node = job.node
    }

    /// The synthesized encoding, except that `node` is always there: null while the job is queued.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(source, forKey: .source)
        try c.encode(state, forKey: .state)
        try c.encode(attempts, forKey: .attempts)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(self.encoder, forKey: .encoder)
        try c.encode(progress, forKey: .progress)
        try c.encodeIfPresent(output, forKey: .output)
        try c.encodeIfPresent(master, forKey: .master)
        try c.encodeIfPresent(renditions, forKey: .renditions)
        try c.encodeIfPresent(durationSeconds, forKey: .durationSeconds)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(startedAt, forKey: .startedAt)
        try c.encodeIfPresent(finishedAt, forKey: .finishedAt)
        try c.encodeIfPresent(metadata, forKey: .metadata)
        try c.encode(node, forKey: .node)
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
