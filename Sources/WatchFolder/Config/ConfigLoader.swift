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
        if let (line, message) = TableHeaderCheck.firstUnparsable(in: text) {
            throw ConfigError(file: file, line: line, message: "TOML syntax: \(message)")
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, message: "TOML syntax: \(error.description)")
        } catch {
            throw ConfigError(file: file, message: "TOML syntax: \(error)")
        }
        let locator = SourceLocator(text: text)
        var document = ConfigDocument(root: root, file: file, locator: locator, baseDirectory: baseDirectory, environment: environment)
        // Sections are read in this order whatever the file's: of several mistakes, the first section's is reported.
        let inbox = try document.inbox()
        let state = try document.state()
        let outbox = try document.outbox()
        var transcode = try document.transcode()
        transcode.options.dash = outbox.dash
        let s3 = try document.s3()
        let webhooks = try document.webhooks()
        let http = try document.http()
        let log = try document.log()
        let limits = try document.limits()
        try document.finish()
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
        func inside(_ path: String, _ folder: String) -> Bool {
            path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
        }
        return inside(url.standardizedFileURL.path, folder.standardizedFileURL.path)
            || inside(url.resolvingSymlinksInPath().path, folder.resolvingSymlinksInPath().path)
    }

    /// `"127.0.0.1:8080"`, `"[::1]:8080"`, `":8080"` (all interfaces).
    static func parseListen(_ listen: String) -> (String, Int)? {
        let host: Substring
        let portText: Substring
        if listen.hasPrefix("[") {
            guard let close = listen.firstIndex(of: "]"), listen[listen.index(after: close)...].hasPrefix(":") else { return nil }
            host = listen[listen.index(after: listen.startIndex)..<close]
            portText = listen[listen.index(close, offsetBy: 2)...]
        } else {
            guard let colon = listen.lastIndex(of: ":") else { return nil }
            host = listen[..<colon]
            portText = listen[listen.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
