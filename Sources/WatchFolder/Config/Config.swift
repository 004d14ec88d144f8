public import Foundation
public import Logging
public import Pipeline

/// The daemon's whole configuration, read from TOML by ``ConfigLoader``.
///
/// Every value here is resolved: defaults filled in, relative paths made absolute against the config file's
/// folder, secrets taken from the environment where the file has none.
public struct Config: Sendable, Hashable {
    public var inbox: Inbox
    public var state: State
    public var outbox: Outbox
    public var transcode: Transcode
    public var s3: S3?
    public var webhooks: [Webhook]
    public var http: HTTP
    public var log: Log
    /// `[limits]`: what one source may cost the engine.
    public var limits: Limits = Limits()
    /// The file this configuration was read from.
    public var sourcePath: String

    /// `[inbox]`: where files are dropped and how they are taken.
    public struct Inbox: Sendable, Hashable {
        public enum OnSuccess: String, Sendable, Hashable, CaseIterable { case archive, delete, keep }
        public var path: URL
        public var recursive: Bool = true
        public var settleSeconds: Double = 5
        /// 0 = inotify only (polling is still used on network filesystems, every 10 s).
        public var pollSeconds: Double = 0
        public var extensions: [String] = Inbox.defaultExtensions
        public var ignore: [String] = Inbox.defaultIgnore
        public var onSuccess: OnSuccess = .archive
        public var archivePath: URL?
        public var failedPath: URL

        public static let defaultExtensions = [
            "mp4", "mov", "m4v", "mkv", "webm", "avi", "mxf", "ts", "m2ts", "mts", "mpg", "mpeg", "wmv", "flv",
            "3gp", "dv", "mj2", "ogv",
        ]
        public static let defaultIgnore = [".*", "*.part", "*.filepart", "*.tmp", "*.crdownload", "~$*"]
    }

    /// `[state]`: the SQLite job store and the work directories.
    public struct State: Sendable, Hashable {
        public var path: URL
        /// Days job events (and their webhook deliveries) are kept; 0 keeps them forever. Jobs are kept.
        public var keepEventsDays: Int = 30
        /// `node`: this node's name in the job store (`watchfolder nodes`, `node` of a job); the host name by default.
        public var node: String = HostName.current
        /// `lease_seconds`: how long a running job stays this node's without a heartbeat (renewed every third of it).
        public var leaseSeconds: Double = 30
        /// `database_url`: a PostgreSQL job store shared by several nodes (`postgresql://USER@HOST:PORT/DB?sslmode=...`),
        /// as written; nil for the embedded SQLite store in `path`.
        public var postgresURL: String?
        /// The PostgreSQL password: from `database_url`, else `PGPASSWORD`, else `WATCHFOLDER_DATABASE_PASSWORD`.
        public var databasePassword: String?

        /// `url` with its password, if it has one, shown as `***` (check-config, log lines).
        public static func masked(_ url: String) -> String {
            guard var parts = URLComponents(string: url), parts.password != nil else { return url }
            parts.password = "***"
            return parts.string ?? url
        }
        /// The job database, `state/watchfolder.sqlite`.
        public var databaseURL: URL { path.appendingPathComponent("watchfolder.sqlite") }
        /// Where packages are built before they are published, `state/work`.
        public var workURL: URL { path.appendingPathComponent("work") }
    }

    /// `[outbox]`: where finished packages appear.
    public struct Outbox: Sendable, Hashable {
        public var path: URL
        /// Folder name of a package under the outbox; tokens {stem} {id} {yyyy} {mm} {dd} {dir}.
        public var layout: String = "{stem}"
        /// `dash`: an fMP4 package also gets `manifest.mpd` (carried to the engine as ``TranscodeOptions/dash``).
        public var dash: Bool = true
        public static let layoutTokens: Set<String> = ["stem", "id", "yyyy", "mm", "dd", "dir"]
    }

    /// `[transcode]` and `[[transcode.ladder]]`.
    public struct Transcode: Sendable, Hashable {
        public var concurrency: Int = 1
        /// Extra concurrent jobs per GPU encoder session when a GPU encoder is in use.
        public var gpuConcurrency: Int = 1
        public var maxAttempts: Int = 3
        /// How long running jobs may finish after SIGTERM before they are cancelled and requeued.
        public var shutdownGraceSeconds: Double = 30
        public var options: TranscodeOptions = TranscodeOptions()

        public static let presets = [
            "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
        ]
    }

    /// `[s3]`: upload packages to S3 or an S3-compatible store.
    public struct S3: Sendable, Hashable {
        public var bucket: String
        public var region: String = "us-east-1"
        public var prefix: String = ""
        /// Custom endpoint (MinIO, R2, ...); nil means AWS.
        public var endpoint: String?
        public var pathStyle: Bool = false
        public var accessKeyID: String?
        public var secretAccessKey: String?
        public var sessionToken: String?
        public var cloudfrontDomain: String?
        public var deleteLocalAfterUpload: Bool = false
        public var uploadConcurrency: Int = 4
    }

    /// One `[[webhook]]` endpoint.
    public struct Webhook: Sendable, Hashable {
        public var url: String
        /// `whsec_` + base64, the Standard Webhooks form.
        public var secret: String
        /// Event types this endpoint receives (all but the opt-in `job.progress` when the key is absent).
        public var events: [String] = Webhook.defaultEvents
        public static let allEvents = [
            "job.queued", "job.started", "job.progress", "job.retrying", "job.completed", "job.failed", "job.cancelled",
        ]
        /// `job.progress` is opt-in: it is not in the default set.
        public static let defaultEvents = allEvents.filter { $0 != "job.progress" }

        /// The one rule for a secret, in the config and in the signer: `whsec_` followed by base64 of at least
        /// 16 bytes. Returns those bytes (the HMAC key), or nil when `secret` breaks the rule.
        public static func key(ofSecret secret: String) -> Data? {
            guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))),
                  key.count >= minimumSecretBytes else { return nil }
            return key
        }

        public static let minimumSecretBytes = 16
    }

    /// `[http]`: the status server.
    public struct HTTP: Sendable, Hashable {
        public var host: String = "127.0.0.1"
        public var port: Int = 8080
        public var token: String?
        /// `/metrics` asks for the token too (Prometheus `authorization` / `bearer_token`); else it is open.
        public var metricsToken = false
        /// Open connections at most (`max_connections`); past it an idle one is closed for a new one, or the new one is.
        public var maxConnections = 256
        /// Server-Sent Event streams at most (`max_event_streams`); past it `/api/events` answers 503.
        public var maxEventStreams = 32
        public var listen: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// `[log]`.
    public struct Log: Sendable, Hashable {
        public enum Level: String, Sendable, Hashable, CaseIterable { case trace, debug, info, notice, warning, error, critical }
        public enum Format: String, Sendable, Hashable, CaseIterable { case text, json }
        public var level: Level = .info
        public var format: Format = .text
        /// `level` as swift-log's level.
        public var loggerLevel: Logger.Level { Logger.Level(rawValue: level.rawValue) ?? .info }
    }
}
