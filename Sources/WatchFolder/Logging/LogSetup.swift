import Foundation
public import Logging
import Synchronization

/// Bootstraps swift-log once per process from `[log]`: text lines or JSON lines on stderr.
public enum LogSetup {
    private static let done = Mutex(false)
    private static let level = Mutex(Logger.Level.info)

    /// The level every handler made by ``bootstrap(_:)`` uses; changed at run time by SIGHUP.
    public static var currentLevel: Logger.Level { level.withLock { $0 } }

    /// Changes the level of every logger at once (config reload).
    public static func setLevel(_ newLevel: Config.Log.Level) {
        level.withLock { $0 = Logger.Level(rawValue: newLevel.rawValue) ?? .info }
    }

    public static func bootstrap(_ config: Config.Log) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        setLevel(config.level)
        LoggingSystem.bootstrap { label in
            let handler: any LogHandler = config.format == .json
                ? JSONLogHandler(label: label)
                : StreamLogHandler.standardError(label: label)
            return ReloadableLevelHandler(inner: handler)
        }
    }
}

/// Wraps a handler so that its level follows ``LogSetup/currentLevel``.
struct ReloadableLevelHandler: LogHandler {
    var inner: any LogHandler
    /// Set on one logger only (`logger.logLevel = .debug`); else the process-wide level.
    var override: Logger.Level?
    var logLevel: Logger.Level {
        get { override ?? LogSetup.currentLevel }
        set { override = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
    func log(event: LogEvent) { inner.log(event: event) }
}

/// One JSON object per line on stderr, for log shippers: `{"ts":..,"level":..,"label":..,"msg":..,...metadata}`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)),
            "level": event.level.rawValue,
            "label": label,
            "msg": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = value.description
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}
