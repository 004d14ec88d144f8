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
                : EscapingLogHandler(inner: StreamLogHandler.standardError(label: label))
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

/// Text lines with control characters escaped in the message and every metadata value: a file name holding a
/// newline (`clip\n2026-01-01T00:00:00 error ...`) prints as one line (`clip\\n2026-...`) and cannot forge another.
/// Backslashes are doubled, so the escaped text reads back unambiguously.
public struct EscapingLogHandler: LogHandler {
    public var inner: any LogHandler

    public init(inner: any LogHandler) { self.inner = inner }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue.mapValues(Self.escape) }
    }
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escape) }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(Self.escape(event.message.description))"
        event.metadata = event.metadata?.mapValues(Self.escape)
        inner.log(event: event)
    }

    static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case let .string(text): .string(escape(text))
        case let .stringConvertible(text): .string(escape(text.description))
        case let .array(values): .array(values.map(escape))
        case let .dictionary(values): .dictionary(values.mapValues(escape))
        }
    }

    /// `\n`, `\r`, `\t`, `\\`, and `\u{XX}` for every other control character (C0, DEL, C1, line and paragraph
    /// separators).
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case _ where needsEscape(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
            || scalar == "\\"
    }
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
