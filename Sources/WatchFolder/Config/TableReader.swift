import Foundation
import Pipeline
import TOMLKit

/// Reads one TOML table strictly: typed getters that name the line on a wrong type, and ``finish()`` that
/// refuses any key nobody asked for.
struct TableReader {
    let table: TOMLTable
    /// `inbox`, `transcode.ladder`, `webhook`...
    let name: String
    /// Position in an array of tables (`[[webhook]]`), else 0.
    let index: Int
    let isArrayElement: Bool
    let file: String
    let locator: SourceLocator
    private var used: Set<String> = []

    init(table: TOMLTable, name: String, index: Int = 0, isArrayElement: Bool = false, file: String, locator: SourceLocator) {
        self.table = table
        self.name = name
        self.index = index
        self.isArrayElement = isArrayElement
        self.file = file
        self.locator = locator
    }

    /// `[inbox]` or `[[webhook]]` #2, as written in messages.
    var displayName: String {
        isArrayElement ? "[[\(name)]] #\(index + 1)" : "[\(name)]"
    }

    func error(_ key: String?, _ message: String) -> ConfigError {
        let line = key.flatMap { locator.key($0, in: name, index: index) } ?? locator.header(name, index: index)
        return ConfigError(file: file, line: line, message: message)
    }

    private mutating func value(_ key: String) -> (any TOMLValueConvertible)? {
        used.insert(key)
        return table[key]
    }

    private func typeError(_ key: String, _ expected: String, _ actual: TOMLType) -> ConfigError {
        error(key, "'\(key)' in \(displayName) must be \(expected), not \(Self.article(actual))")
    }

    private static func article(_ type: TOMLType) -> String {
        switch type {
        case .int: "an integer"
        case .double: "a float"
        case .string: "a string"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .date, .time, .dateTime: "a date"
        }
    }

    mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let entry = value(key) else { return nil }
        guard let string = entry.string else { throw typeError(key, "a string", entry.type) }
        return string
    }

    mutating func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let string = try string(key) else {
            throw error(nil, "missing required key '\(key)' in \(displayName)")
        }
        return string
    }

    mutating func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let entry = value(key) else { return nil }
        guard let bool = entry.bool else { throw typeError(key, "true or false", entry.type) }
        return bool
    }

    mutating func int(_ key: String, min: Int? = nil, max: Int? = nil) throws(ConfigError) -> Int? {
        guard let entry = value(key) else { return nil }
        guard let int = entry.int else { throw typeError(key, "an integer", entry.type) }
        if let min, int < min { throw error(key, "'\(key)' in \(displayName) must be at least \(min), not \(int)") }
        if let max, int > max { throw error(key, "'\(key)' in \(displayName) must be at most \(max), not \(int)") }
        return int
    }

    /// A number: integers and floats are both accepted; `inf` and `nan` never are.
    mutating func number(_ key: String, min: Double? = nil, above: Double? = nil) throws(ConfigError) -> Double? {
        guard let v = value(key) else { return nil }
        let d: Double
        if let i = v.int { d = Double(i) } else if let x = v.double { d = x } else { throw typeError(key, "a number", v.type) }
        guard d.isFinite else { throw error(key, "'\(key)' in \(displayName) must be a finite number, not \(Self.format(d))") }
        if let min, d < min { throw error(key, "'\(key)' in \(displayName) must be at least \(Self.format(min)), not \(Self.format(d))") }
        if let above, d <= above { throw error(key, "'\(key)' in \(displayName) must be greater than \(Self.format(above)), not \(Self.format(d))") }
        return d
    }

    /// A duration in seconds: a finite number from `min` (or above it, with `excludingMin`) to `max`.
    mutating func seconds(_ key: String, min: Double = 0, excludingMin: Bool = false, max: Double) throws(ConfigError) -> Double? {
        guard let v = value(key) else { return nil }
        let d: Double
        if let i = v.int { d = Double(i) } else if let x = v.double { d = x } else { throw typeError(key, "a number of seconds", v.type) }
        guard d.isFinite, excludingMin ? d > min : d >= min, d <= max else {
            let range = excludingMin ? "above \(Self.format(min)) and at most \(Self.format(max))"
                                     : "between \(Self.format(min)) and \(Self.format(max))"
            throw error(key, "'\(key)' in \(displayName) must be a finite number of seconds \(range), not \(Self.format(d))")
        }
        return d
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }

    mutating func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard let array = v.array else { throw typeError(key, "an array of strings", v.type) }
        var out: [String] = []
        for element in array {
            guard let s = element.string else {
                throw error(key, "'\(key)' in \(displayName) must be an array of strings; it holds \(Self.article(element.type))")
            }
            out.append(s)
        }
        return out
    }

    /// One of a fixed set of words.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(ConfigError) -> T?
    where T.RawValue == String {
        guard let s = try string(key) else { return nil }
        guard let v = T(rawValue: s) else {
            let options = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw error(key, "'\(key)' in \(displayName) must be one of \(options), not \"\(s)\"")
        }
        return v
    }

    /// The highest bitrate accepted (1 Gbit/s: above any H.264 level or AAC rate).
    static let maxBitrate = 1_000_000_000

    /// A bitrate: `"5000k"`, `"2.8M"` or an integer in bits per second, at most ``maxBitrate``.
    mutating func bitrate(_ key: String) throws(ConfigError) -> Int? {
        guard let v = value(key) else { return nil }
        if let i = v.int, i > 0, i <= Self.maxBitrate { return i }
        if let s = v.string, let b = Bitrate.parse(s), b <= Self.maxBitrate { return b }
        throw error(key, "'\(key)' in \(displayName) must be a bitrate up to 1000M such as \"5000k\" or \"2.8M\", not \(v.debugDescription)")
    }

    /// A sub-table, or nil when absent.
    mutating func table(_ key: String) throws(ConfigError) -> TOMLTable? {
        guard let v = value(key) else { return nil }
        guard let t = v.table else { throw error(key, "'\(key)' in \(displayName) must be a table, not \(Self.article(v.type))") }
        return t
    }

    /// An array of tables (`[[name]]`), or nil when absent.
    mutating func tableArray(_ key: String) throws(ConfigError) -> [TOMLTable]? {
        guard let v = value(key) else { return nil }
        guard let array = v.array else {
            throw error(key, "'\(key)' must be written as [[\(qualified(key))]] tables, not \(Self.article(v.type))")
        }
        var out: [TOMLTable] = []
        for element in array {
            guard let t = element.table else {
                throw error(key, "'\(key)' must be written as [[\(qualified(key))]] tables")
            }
            out.append(t)
        }
        return out
    }

    func qualified(_ key: String) -> String { name.isEmpty ? key : "\(name).\(key)" }

    /// Refuses every key that was not read.
    func finish() throws(ConfigError) {
        for key in table.keys.sorted() where !used.contains(key) {
            if name.isEmpty, table[key]?.type == .table || table[key]?.type == .array {
                let line = locator.header(key) ?? locator.key(key, in: "")
                throw ConfigError(file: file, line: line, message: "unknown table [\(key)]")
            }
            if name.isEmpty {
                throw ConfigError(file: file, line: locator.key(key, in: ""), message: "unknown key '\(key)' outside any table")
            }
            throw error(key, "unknown key '\(key)' in \(displayName)")
        }
    }
}
