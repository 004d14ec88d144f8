public import Foundation
import Pipeline

/// The JSON body of a webhook: `{"type", "timestamp", "data"}`.
///
/// `data` is the job as it was when the event was recorded (the event's payload, a ``JobPayload``: `id`, `source`,
/// `state`, `attempts`, `error`, `encoder`, `progress`, `output`, `master`, `renditions`, `duration_seconds`,
/// `created_at`, `started_at`, `finished_at`) plus `source_name`, `durations`, and for `job.completed` the
/// `thumbnail` and `poster` URLs and the engine's `manifest` (verbatim). The body depends only on stored rows, so
/// every retry of an event sends the same bytes.
public enum WebhookMessage {
    /// - Parameters:
    ///   - event: The stored event.
    ///   - manifest: The job's package manifest (JSON), used for `job.completed`.
    public static func body(for event: JobEvent, manifest: String?) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let envelope = Envelope(type: event.type.rawValue, timestamp: timestamp(event.createdAt),
                                data: Payload(event, manifest: event.type == .completed ? manifest : nil))
        return (try? encoder.encode(envelope)) ?? Data("{}".utf8)
    }

    /// ISO-8601 in UTC with milliseconds: `2026-11-25T13:40:02.125Z`.
    public static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    private struct Envelope: Encodable {
        var type: String
        var timestamp: String
        var data: Payload
    }

    /// `data`: the recorded ``JobPayload`` and what the webhook adds to it.
    private struct Payload: Encodable {
        var job: JobPayload?
        var sourceName: String?
        var durations = Durations()
        var thumbnail: String?
        var poster: String?
        var manifest: JSONValue?

        struct Durations: Encodable {
            var processingSeconds: Double?
            var mediaSeconds: Double?
            var probeSeconds: Double?
            var transcodeSeconds: Double?
            var packageSeconds: Double?

            enum CodingKeys: String, CodingKey {
                case processingSeconds = "processing_seconds", mediaSeconds = "media_seconds"
                case probeSeconds = "probe_seconds", transcodeSeconds = "transcode_seconds", packageSeconds = "package_seconds"
            }
        }

        enum CodingKeys: String, CodingKey {
            case sourceName = "source_name", durations, thumbnail, poster, manifest
        }

        init(_ event: JobEvent, manifest json: String?) {
            job = try? JSONDecoder().decode(JobPayload.self, from: Data(event.payload.utf8))
            sourceName = job.map { ($0.source as NSString).lastPathComponent }
            durations.processingSeconds = job?.durationSeconds
            guard let json, let view = ManifestView(json: json) else { return }
            manifest = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
            durations.mediaSeconds = view.durationSeconds
            durations.probeSeconds = view.timings?.probeSeconds
            durations.transcodeSeconds = view.timings?.transcodeSeconds
            durations.packageSeconds = view.timings?.packageSeconds
            if let master = job?.master {
                let base = master.lastIndex(of: "/").map { String(master[..<$0]) } ?? ""
                thumbnail = view.thumbnails?.first.map { join(base, $0) }
                poster = view.poster.map { join(base, $0) }
            }
        }

        func encode(to encoder: any Encoder) throws {
            try job?.encode(to: encoder)  // the payload's fields, then the webhook's beside them
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(sourceName, forKey: .sourceName)
            try c.encode(durations, forKey: .durations)
            try c.encodeIfPresent(thumbnail, forKey: .thumbnail)
            try c.encodeIfPresent(poster, forKey: .poster)
            try c.encodeIfPresent(manifest, forKey: .manifest)
        }
    }

    /// `base/relative` for paths and URLs alike (`https://` keeps its double slash).
    private static func join(_ base: String, _ relative: String) -> String {
        base.isEmpty ? relative : base + "/" + relative
    }
}
