import Foundation
import Pipeline
import TOMLKit

/// One parsed `config.toml`, read section by section into the parts of a ``Config``.
///
/// Each section reader takes its table from the root, reads every key it knows in the order the messages
/// promise, and refuses the rest (``TableReader/finish()``). ``ConfigLoader/parse(_:file:baseDirectory:environment:)``
/// calls them in a fixed order, then ``finish()`` refuses unknown top-level tables and keys.
struct ConfigDocument {
    private var root: TableReader
    private let file: String
    private let locator: SourceLocator
    /// Relative paths in the file are resolved against it (the config file's folder).
    private let baseDirectory: URL
    /// Where secrets missing from the file are looked up, and `HOME` for `~/` paths.
    private let environment: [String: String]

    init(root: TOMLTable, file: String, locator: SourceLocator, baseDirectory: URL, environment: [String: String]) {
        self.root = TableReader(table: root, name: "", file: file, locator: locator)
        self.file = file
        self.locator = locator
        self.baseDirectory = URL(fileURLWithPath: baseDirectory.path, isDirectory: true)
        self.environment = environment
    }

    /// Refuses every top-level table and key no section reader asked for.
    func finish() throws(ConfigError) {
        try root.finish()
    }

    // MARK: - Tables

    /// `[name]`, or nil when the file has none.
    private mutating func section(_ name: String) throws(ConfigError) -> TableReader? {
        try root.table(name).map { TableReader(table: $0, name: name, file: file, locator: locator) }
    }

    /// `[name]`, which must be there.
    private mutating func requiredSection(_ name: String) throws(ConfigError) -> TableReader {
        guard let section = try section(name) else {
            throw ConfigError(file: file, message: "missing required table [\(name)] (it needs at least 'path')")
        }
        return section
    }

    /// The `index`th `[[name]]` table.
    private func element(_ table: TOMLTable, of name: String, at index: Int) -> TableReader {
        TableReader(table: table, name: name, index: index, isArrayElement: true, file: file, locator: locator)
    }

    // MARK: - Paths

    /// A folder key: `~/` is the user's home, relative paths are relative to the config file's folder.
    private func path(_ key: String, in reader: inout TableReader) throws(ConfigError) -> URL? {
        guard let written = try reader.string(key) else { return nil }
        guard !written.isEmpty else { throw reader.error(key, "'\(key)' in \(reader.displayName) must not be empty") }
        let expanded = written.hasPrefix("~/") ? (environment["HOME"] ?? NSHomeDirectory()) + written.dropFirst(1) : written
        return URL(fileURLWithPath: expanded, relativeTo: baseDirectory).standardizedFileURL
    }

    private func requiredPath(_ key: String, in reader: inout TableReader) throws(ConfigError) -> URL {
        guard let url = try path(key, in: &reader) else {
            throw reader.error(nil, "missing required key '\(key)' in \(reader.displayName)")
        }
        return url
    }

    // MARK: - Folders

    /// `[inbox]`: where uploads arrive, what counts as one, and where sources go afterwards.
    mutating func inbox() throws(ConfigError) -> Config.Inbox {
        var reader = try requiredSection("inbox")
        var inbox = Config.Inbox(path: try requiredPath("path", in: &reader), failedPath: URL(fileURLWithPath: "/"))
        inbox.recursive = try reader.bool("recursive") ?? inbox.recursive
        inbox.settleSeconds = try reader.seconds("settle_seconds", max: ConfigLoader.Ceilings.settleSeconds) ?? inbox.settleSeconds
        inbox.pollSeconds = try reader.seconds("poll_seconds", max: ConfigLoader.Ceilings.pollSeconds) ?? inbox.pollSeconds
        if let extensions = try reader.stringArray("extensions") {
            inbox.extensions = extensions.map { $0.lowercased().drop { $0 == "." } }.map(String.init)
            if inbox.extensions.isEmpty {
                throw reader.error("extensions", "'extensions' in [inbox] must list at least one extension")
            }
        }
        inbox.ignore = try reader.stringArray("ignore") ?? inbox.ignore
        inbox.onSuccess = try reader.choice("on_success", Config.Inbox.OnSuccess.self) ?? inbox.onSuccess
        inbox.archivePath = try path("archive_path", in: &reader)
        inbox.failedPath = try requiredPath("failed_path", in: &reader)
        if inbox.onSuccess == .archive && inbox.archivePath == nil {
            throw reader.error("on_success", "on_success = \"archive\" needs 'archive_path' in [inbox] (or set on_success to \"delete\" or \"keep\")")
        }
        try reader.finish()
        return inbox
    }

    /// `[state]`: the job database and how long its events are kept.
    mutating func state() throws(ConfigError) -> Config.State {
        var reader = try requiredSection("state")
        var state = Config.State(path: try requiredPath("path", in: &reader))
        if let days = try reader.int("keep_events_days", min: 0, max: ConfigLoader.Ceilings.keepEventsDays) {
            state.keepEventsDays = days
        }
        if let node = try reader.string("node") {
            guard (1...64).contains(node.utf8.count),
                  node.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || "0123456789.-_".unicodeScalars.contains($0)) })
            else {
                // Shown as printable ASCII: the value goes into one line of a terminal or a log.
                let shown = String(node.unicodeScalars.prefix(64).map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
                throw reader.error("node", "'node' in [state] must be 1 to 64 letters, digits, '.', '-' or '_' (a host name), not \"\(shown)\"")
            }
            state.node = node
        }
        state.leaseSeconds = try reader.seconds("lease_seconds", min: 3, max: 3600) ?? state.leaseSeconds
        if let url = try reader.string("database_url") {
            guard let parts = URLComponents(string: url), ["postgresql", "postgres"].contains(parts.scheme ?? ""),
                  let host = parts.host, !host.isEmpty, parts.path.count > 1, parts.user?.isEmpty == false else {
                throw reader.error("database_url", "'database_url' in [state] must be a PostgreSQL URL like \"postgresql://watchfolder@db.example:5432/watchfolder?sslmode=require\" (user, host and database)")
            }
            let modes = ["disable", "prefer", "require", "verify-full"]
            if let mode = parts.queryItems?.first(where: { $0.name == "sslmode" })?.value, !modes.contains(mode) {
                throw reader.error("database_url", "'database_url' in [state]: sslmode must be one of \(modes.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(mode)\"")
            }
            state.postgresURL = url
            state.databasePassword = parts.password ?? environment["PGPASSWORD"] ?? environment["WATCHFOLDER_DATABASE_PASSWORD"]
        }
        try reader.finish()
        return state
    }

    /// `[outbox]`: where packages are published and how their folders are named.
    mutating func outbox() throws(ConfigError) -> Config.Outbox {
        var reader = try requiredSection("outbox")
        var outbox = Config.Outbox(path: try requiredPath("path", in: &reader))
        if let layout = try reader.string("layout") {
            try Self.validateLayout(layout, reader: reader)
            outbox.layout = layout
        }
        outbox.dash = try reader.bool("dash") ?? outbox.dash
        try reader.finish()
        return outbox
    }

    /// `layout` is a relative folder name made of known `{tokens}`, with `{stem}` or `{id}` so packages do not collide.
    private static func validateLayout(_ layout: String, reader: TableReader) throws(ConfigError) {
        guard !layout.isEmpty, !layout.hasPrefix("/"), !layout.split(separator: "/").contains("..") else {
            throw reader.error("layout", "'layout' in [outbox] must be a relative folder name such as \"{stem}\", not \"\(layout)\"")
        }
        var rest = Substring(layout)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw reader.error("layout", "'layout' in [outbox] has an unclosed '{'")
            }
            let token = String(rest[rest.index(after: open)..<close])
            guard Config.Outbox.layoutTokens.contains(token) else {
                throw reader.error("layout", "unknown token {\(token)} in 'layout' in [outbox]; tokens are {stem} {id} {yyyy} {mm} {dd} {dir}")
            }
            rest = rest[rest.index(after: close)...]
        }
        guard layout.contains("{stem}") || layout.contains("{id}") else {
            throw reader.error("layout", "'layout' in [outbox] must contain {stem} or {id} so packages do not collide")
        }
    }

    // MARK: - Transcoding

    /// `[transcode]` and its `[[transcode.ladder]]` rungs; the defaults when the file has no `[transcode]`.
    mutating func transcode() throws(ConfigError) -> Config.Transcode {
        var transcode = Config.Transcode()
        guard var reader = try section("transcode") else { return transcode }
        transcode.concurrency = try reader.int("concurrency", min: 1, max: 64) ?? transcode.concurrency
        transcode.gpuConcurrency = try reader.int("gpu_concurrency", min: 0, max: 64) ?? transcode.gpuConcurrency
        transcode.maxAttempts = try reader.int("max_attempts", min: 1, max: 100) ?? transcode.maxAttempts
        transcode.shutdownGraceSeconds = try reader.seconds("shutdown_grace_seconds", max: ConfigLoader.Ceilings.shutdownGraceSeconds)
            ?? transcode.shutdownGraceSeconds
        var options = transcode.options
        options.hardware = try reader.choice("hardware", HardwarePreference.self) ?? options.hardware
        if let preset = try reader.string("preset") {
            guard Config.Transcode.presets.contains(preset) else {
                throw reader.error("preset", "'preset' in [transcode] must be a libx264 preset (\(Config.Transcode.presets.joined(separator: ", "))), not \"\(preset)\"")
            }
            options.preset = preset
        }
        options.segmentSeconds = try reader.seconds("segment_seconds", excludingMin: true, max: ConfigLoader.Ceilings.segmentSeconds)
            ?? options.segmentSeconds
        let segmentFormat = try reader.choice("segment_format", SegmentFormat.self)
        options.hdr = try reader.choice("hdr", HDRMode.self) ?? options.hdr
        if options.hdr == .keep {  // HEVC in HLS is fMP4, and one package is one segment format
            guard segmentFormat != .ts else {
                throw reader.error("segment_format", "'segment_format' in [transcode] = \"ts\" cannot carry the HEVC renditions of hdr = \"keep\"; use \"fmp4\" (or leave it out)")
            }
            options.segmentFormat = .fmp4
        } else {
            options.segmentFormat = segmentFormat ?? options.segmentFormat
        }
        options.thumbnails = try reader.int("thumbnails", min: 0, max: 100) ?? options.thumbnails
        options.storyboardSeconds = try reader.int("storyboard_seconds", min: 1, max: 600) ?? options.storyboardSeconds
        options.audioBitrate = try reader.bitrate("audio_bitrate") ?? options.audioBitrate
        options.maxAudioTracks = try reader.int("max_audio_tracks", min: 1, max: 32) ?? options.maxAudioTracks
        options.ladder = try ladder(in: &reader) ?? options.ladder
        transcode.options = options
        try reader.finish()
        return transcode
    }

    /// The `[[transcode.ladder]]` rungs, tallest first, or nil when the file lists none.
    private func ladder(in transcode: inout TableReader) throws(ConfigError) -> [Rung]? {
        guard let tables = try transcode.tableArray("ladder") else { return nil }
        guard !tables.isEmpty else { throw transcode.error("ladder", "[[transcode.ladder]] needs at least one rung") }
        var ladder: [Rung] = []
        for (index, table) in tables.enumerated() {
            var reader = element(table, of: "transcode.ladder", at: index)
            guard let height = try reader.int("height", min: 16, max: 4320) else {
                throw reader.error(nil, "missing required key 'height' in \(reader.displayName)")
            }
            guard height % 2 == 0 else { throw reader.error("height", "'height' in \(reader.displayName) must be even, not \(height)") }
            guard let bitrate = try reader.bitrate("video_bitrate") else {
                throw reader.error(nil, "missing required key 'video_bitrate' in \(reader.displayName)")
            }
            ladder.append(Rung(height: height, videoBitrate: bitrate, maxrate: try reader.bitrate("maxrate"), bufsize: try reader.bitrate("bufsize")))
            try reader.finish()
        }
        return ladder.sorted { $0.height > $1.height }
    }

    /// `[limits]`: the deadlines and sizes a stranger's file must stay within; the defaults when absent.
    mutating func limits() throws(ConfigError) -> Limits {
        var limits = Limits()
        guard var reader = try section("limits") else { return limits }
        func seconds(_ key: String, max: Double) throws(ConfigError) -> Double? {
            try reader.seconds(key, excludingMin: true, max: max)
        }
        limits.probeSeconds = try seconds("probe_seconds", max: ConfigLoader.Ceilings.probeSeconds) ?? limits.probeSeconds
        limits.stallSeconds = try seconds("stall_seconds", max: ConfigLoader.Ceilings.stallSeconds) ?? limits.stallSeconds
        limits.maxDurationSeconds = try seconds("max_duration_seconds", max: ConfigLoader.Ceilings.maxDurationSeconds)
            ?? limits.maxDurationSeconds
        limits.maxGapSeconds = try seconds("max_gap_seconds", max: ConfigLoader.Ceilings.maxGapSeconds) ?? limits.maxGapSeconds
        limits.maxPixels = try reader.int("max_pixels", min: 1) ?? limits.maxPixels
        limits.maxStreams = try reader.int("max_streams", min: 1, max: 100_000) ?? limits.maxStreams
        try reader.finish()
        return limits
    }

    // MARK: - Publishing and notifying

    /// `[s3]`, or nil when packages stay in the outbox. Missing keys come from `AWS_*` in the environment.
    mutating func s3() throws(ConfigError) -> Config.S3? {
        guard var reader = try section("s3") else { return nil }
        var s3 = Config.S3(bucket: try reader.requiredString("bucket"))
        s3.region = try reader.string("region") ?? s3.region
        s3.prefix = (try reader.string("prefix") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        s3.endpoint = try reader.string("endpoint")
        if let endpoint = s3.endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw reader.error("endpoint", "'endpoint' in [s3] must start with http:// or https://, not \"\(endpoint)\"")
        }
        s3.pathStyle = try reader.bool("path_style") ?? s3.pathStyle
        s3.accessKeyID = try reader.string("access_key_id") ?? environment["AWS_ACCESS_KEY_ID"]
        s3.secretAccessKey = try reader.string("secret_access_key") ?? environment["AWS_SECRET_ACCESS_KEY"]
        s3.sessionToken = try reader.string("session_token") ?? environment["AWS_SESSION_TOKEN"]
        s3.cloudfrontDomain = try reader.string("cloudfront_domain")
        s3.deleteLocalAfterUpload = try reader.bool("delete_local_after_upload") ?? s3.deleteLocalAfterUpload
        s3.uploadConcurrency = try reader.int("upload_concurrency", min: 1, max: 64) ?? s3.uploadConcurrency
        try reader.finish()
        return s3
    }

    /// Every `[[webhook]]`, in file order.
    mutating func webhooks() throws(ConfigError) -> [Config.Webhook] {
        var webhooks: [Config.Webhook] = []
        for (index, table) in (try root.tableArray("webhook") ?? []).enumerated() {
            var reader = element(table, of: "webhook", at: index)
            let url = try reader.requiredString("url")
            guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                throw reader.error("url", "'url' in \(reader.displayName) must be an http:// or https:// URL, not \"\(url)\"")
            }
            let secret = try reader.requiredString("secret")
            guard Config.Webhook.key(ofSecret: secret) != nil else {
                throw reader.error("secret", "'secret' in \(reader.displayName) must be \"whsec_\" followed by base64 of at least 16 bytes (make one with `watchfolder webhook-secret`)")
            }
            var webhook = Config.Webhook(url: url, secret: secret)
            if let events = try reader.stringArray("events") {
                for event in events where !Config.Webhook.allEvents.contains(event) {
                    throw reader.error("events", "unknown event \"\(event)\" in \(reader.displayName); events are \(Config.Webhook.allEvents.joined(separator: ", "))")
                }
                webhook.events = events
            }
            try reader.finish()
            webhooks.append(webhook)
        }
        return webhooks
    }

    // MARK: - Operating

    /// `[http]`, the status server; the token falls back to `WATCHFOLDER_HTTP_TOKEN`.
    ///
    /// - Throws: also when it listens beyond loopback without a token.
    mutating func http() throws(ConfigError) -> Config.HTTP {
        var http = Config.HTTP()
        if var reader = try section("http") {
            if let listen = try reader.string("listen") {
                guard let (host, port) = ConfigLoader.parseListen(listen) else {
                    throw reader.error("listen", "'listen' in [http] must be HOST:PORT such as \"127.0.0.1:8080\", not \"\(listen)\"")
                }
                http.host = host
                http.port = port
            }
            http.token = try reader.string("token")
            if let protect = try reader.bool("metrics_token") { http.metricsToken = protect }
            http.maxConnections = try reader.int("max_connections", min: 2, max: 65536) ?? http.maxConnections
            // Streams leave at least one connection for the API (by default 32, fewer under a small max_connections).
            http.maxEventStreams = try reader.int("max_event_streams", min: 1, max: http.maxConnections - 1)
                ?? min(http.maxEventStreams, http.maxConnections - 1)
            try reader.finish()
        }
        if http.token == nil, let token = environment["WATCHFOLDER_HTTP_TOKEN"], !token.isEmpty { http.token = token }
        if http.token == nil && !ConfigLoader.isLoopback(http.host) {
            throw ConfigError(
                file: file, line: locator.key("listen", in: "http"),
                message: "[http] listen = \"\(http.listen)\" is reachable from other machines: set 'token' in [http] (or WATCHFOLDER_HTTP_TOKEN), or listen on 127.0.0.1")
        }
        return http
    }

    /// `[log]`: level and format; the defaults when absent.
    mutating func log() throws(ConfigError) -> Config.Log {
        var log = Config.Log()
        guard var reader = try section("log") else { return log }
        log.level = try reader.choice("level", Config.Log.Level.self) ?? log.level
        log.format = try reader.choice("format", Config.Log.Format.self) ?? log.format
        try reader.finish()
        return log
    }
}
