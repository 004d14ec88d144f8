import Foundation

/// Finds the line of a table header or key in TOML text.
///
/// TOMLKit keeps no source positions for keys, so errors about a key's value are located by a light scan of the
/// text: `[table]` and `[[array]]` headers open sections, `key =` lines belong to the section above them.
struct SourceLocator {
    private struct Section {
        var name: String
        var index: Int
        var headerLine: Int
        var keys: [String: Int] = [:]
    }
    private var sections: [Section] = []

    init(text: String) {
        var current = Section(name: "", index: 0, headerLine: 1)
        var arrayCounts: [String: Int] = [:]
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                sections.append(current)
                let isArray = line.hasPrefix("[[")
                let name = Self.normalize(line.dropFirst(isArray ? 2 : 1).prefix { $0 != "]" && $0 != "#" })
                var index = 0
                if isArray { index = arrayCounts[name, default: 0]; arrayCounts[name] = index + 1 }
                current = Section(name: name, index: index, headerLine: lineNumber)
            } else if !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") {
                let key = Self.normalize(line[..<eq])
                if current.keys[key] == nil { current.keys[key] = lineNumber }
            }
        }
        sections.append(current)
    }

    /// The line of `[name]` (the `index`th `[[name]]` for arrays of tables).
    func header(_ name: String, index: Int = 0) -> Int? {
        sections.first { $0.name == name && $0.index == index }?.headerLine
    }

    /// The line of `key = ...` in `[table]` (the `index`th `[[table]]` for arrays of tables).
    func key(_ key: String, in table: String, index: Int = 0) -> Int? {
        if let section = sections.first(where: { $0.name == table && $0.index == index }), let line = section.keys[key] {
            return line
        }
        // A sub-table written as its own header: `[inbox.x]`.
        if let line = header("\(table.isEmpty ? "" : table + ".")\(key)", index: 0) { return line }
        // Dotted keys written in a parent table: `[transcode]` + `ladder.height = ...`, or at the root.
        for section in sections where table.hasPrefix(section.name) {
            let rest = section.name.isEmpty ? table : String(table.dropFirst(section.name.count + 1))
            if let line = section.keys[rest.isEmpty ? key : "\(rest).\(key)"] { return line }
        }
        return nil
    }

    private static func normalize<S: StringProtocol>(_ s: S) -> String {
        s.split(separator: ".").map { part in
            part.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"'")))
        }.joined(separator: ".")
    }
}

