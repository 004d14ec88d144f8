import Foundation
public import Logging

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
