public import Foundation

/// The JSON body of a webhook: `{"type", "timestamp", "data"}`.
///
/// `data` is the job as it was when the event was recorded (the event's payload: `id`, `source`, `state`,
/// `attempts`, `error`, `encoder`, `progress`, `output`, `master`, `renditions`, `duration_seconds`,
/// `created_at`, `started_at`, `finished_at`) plus `source_name`, `durations`, and for `job.completed` the
/// `thumbnail` and `poster` URLs and the engine's `manifest`. The body depends only on stored rows, so every
/// retry of an event sends the same bytes.
public enum WebhookMessage {
    /// - Parameters:
    ///   - event: The stored event.
    ///   - manifest: The job's package manifest (JSON), used for `job.completed`.
    public static func body(for event: JobEvent, manifest: String?) -> Data {
        var data = (try? JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any]) ?? [:]
        if let source = data["source"] as? String { data["source_name"] = (source as NSString).lastPathComponent }
        var durations: [String: Any] = [:]
        if let total = data["duration_seconds"] { durations["processing_seconds"] = total }
        if event.type == .completed, let manifest,
           let object = try? JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any] {
            data["manifest"] = object
            if let media = object["durationSeconds"] { durations["media_seconds"] = media }
            if let timings = object["timings"] as? [String: Any] {
                for (key, out) in [("probeSeconds", "probe_seconds"), ("transcodeSeconds", "transcode_seconds"),
                                   ("packageSeconds", "package_seconds")] {
                    if let value = timings[key] { durations[out] = value }
                }
            }
            if let master = data["master"] as? String {
                let base = master.lastIndex(of: "/").map { String(master[..<$0]) } ?? ""
                if let thumbnails = object["thumbnails"] as? [String], let first = thumbnails.first {
                    data["thumbnail"] = join(base, first)
                }
                if let poster = object["poster"] as? String { data["poster"] = join(base, poster) }
            }
        }
        data["durations"] = durations
        let envelope: [String: Any] = ["type": event.type.rawValue, "timestamp": timestamp(event.createdAt), "data": data]
        return (try? JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
    }

    /// ISO-8601 in UTC with milliseconds: `2026-11-25T13:40:02.125Z`.
    public static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// `base/relative` for paths and URLs alike (`https://` keeps its double slash).
    private static func join(_ base: String, _ relative: String) -> String {
        base.isEmpty ? relative : base + "/" + relative
    }
}
