import Foundation
import Pipeline

extension Config {
    /// The effective configuration as TOML: every key with its resolved value, secrets shown as `"***"`.
    ///
    /// What `watchfolder check-config` prints; it parses back to the same ``Config`` (secrets aside).
    public func effectiveTOML() -> String {
        var out = "# effective configuration of \(sourcePath)\n"
        func section(_ name: String) { out += "\n[\(name)]\n" }
        func line(_ key: String, _ value: String) { out += "\(key) = \(value)\n" }
        func quoted(_ s: String) -> String {
            var escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            escaped = escaped.replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(escaped)\""
        }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        func num(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
        func secret(_ s: String?) -> String? { s.map { _ in quoted("***") } }

        section("inbox")
        line("path", quoted(inbox.path.path))
        line("recursive", String(inbox.recursive))
        line("settle_seconds", num(inbox.settleSeconds))
        line("poll_seconds", num(inbox.pollSeconds))
        line("extensions", list(inbox.extensions))
        line("ignore", list(inbox.ignore))
        line("on_success", quoted(inbox.onSuccess.rawValue))
        if let archive = inbox.archivePath { line("archive_path", quoted(archive.path)) }
        line("failed_path", quoted(inbox.failedPath.path))

        section("state")
        line("path", quoted(state.path.path))
        line("keep_events_days", String(state.keepEventsDays))
        line("node", quoted(state.node))
        line("lease_seconds", num(state.leaseSeconds))
        if let url = state.postgresURL { line("database_url", quoted(Config.State.masked(url))) }

        section("outbox")
        line("path", quoted(outbox.path.path))
        line("layout", quoted(outbox.layout))
        line("dash", String(outbox.dash))

        section("transcode")
        line("concurrency", String(transcode.concurrency))
        line("gpu_concurrency", String(transcode.gpuConcurrency))
        line("hardware", quoted(transcode.options.hardware.rawValue))
        line("preset", quoted(transcode.options.preset))
        line("segment_seconds", num(transcode.options.segmentSeconds))
        line("segment_format", quoted(transcode.options.segmentFormat.rawValue))
        line("hdr", quoted(transcode.options.hdr.rawValue))
        line("thumbnails", String(transcode.options.thumbnails))
        line("storyboard_seconds", String(transcode.options.storyboardSeconds))
        line("max_attempts", String(transcode.maxAttempts))
        line("audio_bitrate", quoted(Bitrate.format(transcode.options.audioBitrate)))
        line("max_audio_tracks", String(transcode.options.maxAudioTracks))
        line("shutdown_grace_seconds", num(transcode.shutdownGraceSeconds))
        for rung in transcode.options.ladder {
            out += "\n[[transcode.ladder]]\n"
            line("height", String(rung.height))
            line("video_bitrate", quoted(Bitrate.format(rung.videoBitrate)))
            line("maxrate", quoted(Bitrate.format(rung.maxrate)))
            line("bufsize", quoted(Bitrate.format(rung.bufsize)))
        }

        if let s3 {
            section("s3")
            line("bucket", quoted(s3.bucket))
            line("region", quoted(s3.region))
            line("prefix", quoted(s3.prefix))
            if let endpoint = s3.endpoint { line("endpoint", quoted(endpoint)) }
            line("path_style", String(s3.pathStyle))
            if let key = s3.accessKeyID { line("access_key_id", quoted(key)) }
            if let v = secret(s3.secretAccessKey) { line("secret_access_key", v) }
            if let v = secret(s3.sessionToken) { line("session_token", v) }
            if let domain = s3.cloudfrontDomain { line("cloudfront_domain", quoted(domain)) }
            line("delete_local_after_upload", String(s3.deleteLocalAfterUpload))
            line("upload_concurrency", String(s3.uploadConcurrency))
        }

        for hook in webhooks {
            out += "\n[[webhook]]\n"
            line("url", quoted(hook.url))
            line("secret", quoted("whsec_***"))
            line("events", list(hook.events))
        }

        section("http")
        line("listen", quoted(http.listen))
        if let v = secret(http.token) { line("token", v) }
        line("metrics_token", String(http.metricsToken))
        line("max_connections", String(http.maxConnections))
        line("max_event_streams", String(http.maxEventStreams))

        section("limits")
        line("probe_seconds", num(limits.probeSeconds))
        line("stall_seconds", num(limits.stallSeconds))
        line("max_duration_seconds", num(limits.maxDurationSeconds))
        line("max_pixels", String(limits.maxPixels))
        line("max_streams", String(limits.maxStreams))
        line("max_gap_seconds", num(limits.maxGapSeconds))

        section("log")
        line("level", quoted(log.level.rawValue))
        line("format", quoted(log.format.rawValue))
        return out
    }
}
