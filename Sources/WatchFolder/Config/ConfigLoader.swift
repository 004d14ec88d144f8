public import Foundation
import Pipeline
import TOMLKit

/// Reads `config.toml` into a ``Config``: strict about unknown keys and types, with the line of each mistake.
public enum ConfigLoader {
    /// Where `watchfolder run` looks when neither `--config` nor `WATCHFOLDER_CONFIG` is given.
    public static let defaultPath = "/etc/watchfolder/config.toml"

    /// The config path a command uses: the flag, else `WATCHFOLDER_CONFIG`, else ``defaultPath``.
    public static func resolvePath(_ flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let env = environment["WATCHFOLDER_CONFIG"], !env.isEmpty { return env }
        return defaultPath
    }

    /// Reads and validates the file at `path`.
    /// - Parameters:
    ///   - path: The config file; relative paths inside it are resolved against its folder.
    ///   - environment: Where secrets missing from the file are looked up (`AWS_*`, `WATCHFOLDER_HTTP_TOKEN`).
    /// - Throws: ``ConfigError`` naming the file and, where there is one, the line.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> Config {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path)
                ? "cannot read it (check its permissions)"
                : "no such file (copy config.example.toml there, or pass --config PATH)"
            throw ConfigError(file: path, message: reason)
        }
        let base = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        return try parse(text, file: path, baseDirectory: base, environment: environment)
    }

    /// Parses TOML text; `file` only names it in errors.
    public static func parse(
        _ text: String,
        file: String,
        baseDirectory: URL,
        environment: [String: String] = [:]
    ) throws(ConfigError) -> Config {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, message: "TOML syntax: \(error.description)")
        } catch {
            throw ConfigError(file: file, message: "TOML syntax: \(error)")
        }
        let baseDirectory = URL(fileURLWithPath: baseDirectory.path, isDirectory: true)
        let locator = SourceLocator(text: text)
        var top = TableReader(table: root, name: "", file: file, locator: locator)

        func section(_ name: String) throws(ConfigError) -> TableReader? {
            try top.table(name).map { TableReader(table: $0, name: name, file: file, locator: locator) }
        }
        func required(_ name: String) throws(ConfigError) -> TableReader {
            guard let t = try section(name) else {
                throw ConfigError(file: file, message: "missing required table [\(name)] (it needs at least 'path')")
            }
            return t
        }
        func path(_ reader: inout TableReader, _ key: String) throws(ConfigError) -> URL? {
            guard let s = try reader.string(key) else { return nil }
            guard !s.isEmpty else { throw reader.error(key, "'\(key)' in \(reader.displayName) must not be empty") }
            let expanded = s.hasPrefix("~/") ? (environment["HOME"] ?? NSHomeDirectory()) + s.dropFirst(1) : s
            return URL(fileURLWithPath: expanded, relativeTo: baseDirectory).standardizedFileURL
        }
        func requiredPath(_ reader: inout TableReader, _ key: String) throws(ConfigError) -> URL {
            guard let url = try path(&reader, key) else {
                throw reader.error(nil, "missing required key '\(key)' in \(reader.displayName)")
            }
            return url
        }

        // [inbox]
        var r = try required("inbox")
        var inbox = Config.Inbox(path: try requiredPath(&r, "path"), failedPath: URL(fileURLWithPath: "/"))
        inbox.recursive = try r.bool("recursive") ?? inbox.recursive
        inbox.settleSeconds = try r.seconds("settle_seconds", max: Ceilings.settleSeconds) ?? inbox.settleSeconds
        inbox.pollSeconds = try r.seconds("poll_seconds", max: Ceilings.pollSeconds) ?? inbox.pollSeconds
        if let exts = try r.stringArray("extensions") {
            inbox.extensions = exts.map { $0.lowercased().drop { $0 == "." } }.map(String.init)
            if inbox.extensions.isEmpty { throw r.error("extensions", "'extensions' in [inbox] must list at least one extension") }
        }
        inbox.ignore = try r.stringArray("ignore") ?? inbox.ignore
        inbox.onSuccess = try r.choice("on_success", Config.Inbox.OnSuccess.self) ?? inbox.onSuccess
        inbox.archivePath = try path(&r, "archive_path")
        inbox.failedPath = try requiredPath(&r, "failed_path")
        if inbox.onSuccess == .archive && inbox.archivePath == nil {
            throw r.error("on_success", "on_success = \"archive\" needs 'archive_path' in [inbox] (or set on_success to \"delete\" or \"keep\")")
        }
        try r.finish()

        // [state]
        r = try required("state")
        var state = Config.State(path: try requiredPath(&r, "path"))
        if let days = try r.int("keep_events_days", min: 0, max: Ceilings.keepEventsDays) { state.keepEventsDays = days }
        try r.finish()

        // [outbox]
        r = try required("outbox")
        var outbox = Config.Outbox(path: try requiredPath(&r, "path"))
        if let layout = try r.string("layout") {
            try validateLayout(layout, reader: r)
            outbox.layout = layout
        }
        try r.finish()

        // [transcode] and [[transcode.ladder]]
        var transcode = Config.Transcode()
        if var t = try section("transcode") {
            transcode.concurrency = try t.int("concurrency", min: 1, max: 64) ?? transcode.concurrency
            transcode.gpuConcurrency = try t.int("gpu_concurrency", min: 0, max: 64) ?? transcode.gpuConcurrency
            transcode.maxAttempts = try t.int("max_attempts", min: 1, max: 100) ?? transcode.maxAttempts
            transcode.shutdownGraceSeconds = try t.seconds("shutdown_grace_seconds", max: Ceilings.shutdownGraceSeconds)
                ?? transcode.shutdownGraceSeconds
            var o = transcode.options
            o.hardware = try t.choice("hardware", HardwarePreference.self) ?? o.hardware
            if let preset = try t.string("preset") {
                guard Config.Transcode.presets.contains(preset) else {
                    throw t.error("preset", "'preset' in [transcode] must be a libx264 preset (\(Config.Transcode.presets.joined(separator: ", "))), not \"\(preset)\"")
                }
                o.preset = preset
            }
            o.segmentSeconds = try t.seconds("segment_seconds", excludingMin: true, max: Ceilings.segmentSeconds) ?? o.segmentSeconds
            let segmentFormat = try t.choice("segment_format", SegmentFormat.self)
            o.hdr = try t.choice("hdr", HDRMode.self) ?? o.hdr
            if o.hdr == .keep {  // HEVC in HLS is fMP4, and one package is one segment format
                guard segmentFormat != .ts else {
                    throw t.error("segment_format", "'segment_format' in [transcode] = \"ts\" cannot carry the HEVC renditions of hdr = \"keep\"; use \"fmp4\" (or leave it out)")
                }
                o.segmentFormat = .fmp4
            } else {
                o.segmentFormat = segmentFormat ?? o.segmentFormat
            }
            o.thumbnails = try t.int("thumbnails", min: 0, max: 100) ?? o.thumbnails
            o.audioBitrate = try t.bitrate("audio_bitrate") ?? o.audioBitrate
            if let rungs = try t.tableArray("ladder") {
                guard !rungs.isEmpty else { throw t.error("ladder", "[[transcode.ladder]] needs at least one rung") }
                var ladder: [Rung] = []
                for (i, table) in rungs.enumerated() {
                    var l = TableReader(table: table, name: "transcode.ladder", index: i, isArrayElement: true, file: file, locator: locator)
                    guard let height = try l.int("height", min: 16, max: 4320) else {
                        throw l.error(nil, "missing required key 'height' in \(l.displayName)")
                    }
                    guard height % 2 == 0 else { throw l.error("height", "'height' in \(l.displayName) must be even, not \(height)") }
                    guard let bitrate = try l.bitrate("video_bitrate") else {
                        throw l.error(nil, "missing required key 'video_bitrate' in \(l.displayName)")
                    }
                    ladder.append(Rung(height: height, videoBitrate: bitrate, maxrate: try l.bitrate("maxrate"), bufsize: try l.bitrate("bufsize")))
                    try l.finish()
                }
                o.ladder = ladder.sorted { $0.height > $1.height }
            }
            transcode.options = o
            try t.finish()
        }

        // [s3]
        var s3: Config.S3?
        if var s = try section("s3") {
            var c = Config.S3(bucket: try s.requiredString("bucket"))
            c.region = try s.string("region") ?? c.region
            c.prefix = (try s.string("prefix") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            c.endpoint = try s.string("endpoint")
            if let e = c.endpoint, !(e.hasPrefix("http://") || e.hasPrefix("https://")) {
                throw s.error("endpoint", "'endpoint' in [s3] must start with http:// or https://, not \"\(e)\"")
            }
            c.pathStyle = try s.bool("path_style") ?? c.pathStyle
            c.accessKeyID = try s.string("access_key_id") ?? environment["AWS_ACCESS_KEY_ID"]
            c.secretAccessKey = try s.string("secret_access_key") ?? environment["AWS_SECRET_ACCESS_KEY"]
            c.sessionToken = try s.string("session_token") ?? environment["AWS_SESSION_TOKEN"]
            c.cloudfrontDomain = try s.string("cloudfront_domain")
            c.deleteLocalAfterUpload = try s.bool("delete_local_after_upload") ?? c.deleteLocalAfterUpload
            c.uploadConcurrency = try s.int("upload_concurrency", min: 1, max: 64) ?? c.uploadConcurrency
            try s.finish()
            s3 = c
        }

        // [[webhook]]
        var webhooks: [Config.Webhook] = []
        for (i, table) in (try top.tableArray("webhook") ?? []).enumerated() {
            var w = TableReader(table: table, name: "webhook", index: i, isArrayElement: true, file: file, locator: locator)
            let url = try w.requiredString("url")
            guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                throw w.error("url", "'url' in \(w.displayName) must be an http:// or https:// URL, not \"\(url)\"")
            }
            let secret = try w.requiredString("secret")
            guard Config.Webhook.key(ofSecret: secret) != nil else {
                throw w.error("secret", "'secret' in \(w.displayName) must be \"whsec_\" followed by base64 of at least 16 bytes (make one with `watchfolder webhook-secret`)")
            }
            var hook = Config.Webhook(url: url, secret: secret)
            if let events = try w.stringArray("events") {
                for event in events where !Config.Webhook.allEvents.contains(event) {
                    throw w.error("events", "unknown event \"\(event)\" in \(w.displayName); events are \(Config.Webhook.allEvents.joined(separator: ", "))")
                }
                hook.events = events
            }
            try w.finish()
            webhooks.append(hook)
        }

        // [http]
        var http = Config.HTTP()
        if var h = try section("http") {
            if let listen = try h.string("listen") {
                guard let (host, port) = parseListen(listen) else {
                    throw h.error("listen", "'listen' in [http] must be HOST:PORT such as \"127.0.0.1:8080\", not \"\(listen)\"")
                }
                http.host = host
                http.port = port
            }
            http.token = try h.string("token")
            if let protect = try h.bool("metrics_token") { http.metricsToken = protect }
            http.maxConnections = try h.int("max_connections", min: 2, max: 65536) ?? http.maxConnections
            // Streams leave at least one connection for the API (by default 32, fewer under a small max_connections).
            http.maxEventStreams = try h.int("max_event_streams", min: 1, max: http.maxConnections - 1)
                ?? min(http.maxEventStreams, http.maxConnections - 1)
            try h.finish()
        }
        if http.token == nil, let env = environment["WATCHFOLDER_HTTP_TOKEN"], !env.isEmpty { http.token = env }
        if http.token == nil && !isLoopback(http.host) {
            throw ConfigError(
                file: file, line: locator.key("listen", in: "http"),
                message: "[http] listen = \"\(http.listen)\" is reachable from other machines: set 'token' in [http] (or WATCHFOLDER_HTTP_TOKEN), or listen on 127.0.0.1")
        }

        // [log]
        var log = Config.Log()
        if var l = try section("log") {
            log.level = try l.choice("level", Config.Log.Level.self) ?? log.level
            log.format = try l.choice("format", Config.Log.Format.self) ?? log.format
            try l.finish()
        }

        // [limits]
        var limits = Limits()
        if var l = try section("limits") {
            func seconds(_ key: String, max: Double) throws(ConfigError) -> Double? {
                try l.seconds(key, excludingMin: true, max: max)
            }
            limits.probeSeconds = try seconds("probe_seconds", max: Ceilings.probeSeconds) ?? limits.probeSeconds
            limits.stallSeconds = try seconds("stall_seconds", max: Ceilings.stallSeconds) ?? limits.stallSeconds
            limits.maxDurationSeconds = try seconds("max_duration_seconds", max: Ceilings.maxDurationSeconds)
                ?? limits.maxDurationSeconds
            limits.maxGapSeconds = try seconds("max_gap_seconds", max: Ceilings.maxGapSeconds) ?? limits.maxGapSeconds
            limits.maxPixels = try l.int("max_pixels", min: 1) ?? limits.maxPixels
            limits.maxStreams = try l.int("max_streams", min: 1, max: 100_000) ?? limits.maxStreams
            try l.finish()
        }

        try top.finish()
        try checkFolders(inbox: inbox, state: state, outbox: outbox, file: file, locator: locator)
        return Config(inbox: inbox, state: state, outbox: outbox, transcode: transcode, s3: s3, webhooks: webhooks,
                      http: http, log: log, limits: limits, sourcePath: file)
    }

    /// The largest values that make sense; anything above is a typo (or `inf`), refused with its line.
    enum Ceilings {
        static let settleSeconds: Double = 86_400
        static let pollSeconds: Double = 3_600
        static let shutdownGraceSeconds: Double = 3_600
        static let segmentSeconds: Double = 60
        static let keepEventsDays = 36_500
        static let probeSeconds: Double = 3_600
        static let stallSeconds: Double = 86_400
        static let maxDurationSeconds: Double = 604_800
        static let maxGapSeconds: Double = 86_400
    }

    /// The outbox, archive, failed and state folders must not be the inbox or inside it: the daemon would take its
    /// own packages, archived sources, failed files or database as uploads.
    private static func checkFolders(inbox: Config.Inbox, state: Config.State, outbox: Config.Outbox, file: String,
                                     locator: SourceLocator) throws(ConfigError) {
        let folders: [(key: String, table: String, url: URL?)] = [
            ("path", "outbox", outbox.path), ("archive_path", "inbox", inbox.archivePath),
            ("failed_path", "inbox", inbox.failedPath), ("path", "state", state.path),
        ]
        for folder in folders {
            guard let url = folder.url, isInside(url, inbox.path) else { continue }
            let name = folder.table == "inbox" ? "'\(folder.key)' in [inbox]" : "[\(folder.table)] path"
            throw ConfigError(
                file: file, line: locator.key(folder.key, in: folder.table),
                message: "\(name) (\(url.path)) is inside the inbox (\(inbox.path.path)): the daemon would take its own files as uploads; put it beside the inbox")
        }
    }

    /// True when `url` is `folder` or lies under it, as written or with symbolic links resolved.
    static func isInside(_ url: URL, _ folder: URL) -> Bool {
        func inside(_ a: String, _ b: String) -> Bool { a == b || a.hasPrefix(b.hasSuffix("/") ? b : b + "/") }
        return inside(url.standardizedFileURL.path, folder.standardizedFileURL.path)
            || inside(url.resolvingSymlinksInPath().path, folder.resolvingSymlinksInPath().path)
    }

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

    /// `"127.0.0.1:8080"`, `"[::1]:8080"`, `":8080"` (all interfaces).
    static func parseListen(_ s: String) -> (String, Int)? {
        let host: Substring
        let portText: Substring
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]"), s[s.index(after: close)...].hasPrefix(":") else { return nil }
            host = s[s.index(after: s.startIndex)..<close]
            portText = s[s.index(close, offsetBy: 2)...]
        } else {
            guard let colon = s.lastIndex(of: ":") else { return nil }
            host = s[..<colon]
            portText = s[s.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
