/// The names of a video's sidecars: files beside it with its stem, `STEM.json`, `STEM.srt`, `STEM.vtt`,
/// `STEM.LANG.srt`, `STEM.LANG.vtt` (LANG a well-formed BCP 47 tag such as `en` or `pt-BR`).
enum SidecarName {
    /// The extensions a sidecar may have (lower case; matched case-insensitively).
    static let extensions: Set<String> = ["json", "srt", "vtt"]

    /// True when `name` has a sidecar's extension (the intake tracks such files and never makes them jobs).
    /// Cheap (no allocation): intake asks it of every tracked path.
    static func hasSidecarExtension(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), dot != bytes.startIndex else { return false }
        let ext = bytes[bytes.index(after: dot)...]
        guard (3...4).contains(ext.count) else { return false }
        return extensions.contains(String(decoding: ext, as: UTF8.self).lowercased())
    }

    /// The stem of a video's file name: the name without its last extension (`clip.mp4` → `clip`).
    static func stem(ofVideo name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// What `name` is to the video whose stem is `stem`: nil when it is not one of its sidecars.
    static func match(_ name: String, stem: String) -> (format: String, language: String?)? {
        let prefix = stem + "."
        guard name.count > prefix.count, name.hasPrefix(prefix) else { return nil }
        let rest = String(name.dropFirst(prefix.count))
        if extensions.contains(rest.lowercased()) { return (rest.lowercased(), nil) }
        guard let dot = rest.lastIndex(of: ".") else { return nil }
        let format = rest[rest.index(after: dot)...].lowercased()
        let language = String(rest[..<dot])
        guard format == "srt" || format == "vtt", isLanguageTag(language) else { return nil }
        return (format, language)
    }

    /// True for a well-formed BCP 47 language tag (RFC 5646 `langtag`, without extensions and private use):
    /// language (2–3 letters, or 5–8), optional script (4 letters), optional region (2 letters or 3 digits),
    /// variants (5–8 alphanumerics, or a digit and 3 alphanumerics).
    static func isLanguageTag(_ tag: String) -> Bool {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count) || (5...8).contains(language.count),
              language.allSatisfy(isLetter) else { return false }
        var rest = parts.dropFirst()
        if let script = rest.first, script.count == 4, script.allSatisfy(isLetter) { rest = rest.dropFirst() }
        if let region = rest.first, (region.count == 2 && region.allSatisfy(isLetter))
            || (region.count == 3 && region.allSatisfy(isDigit)) { rest = rest.dropFirst() }
        return rest.allSatisfy { variant in
            guard variant.allSatisfy({ isLetter($0) || isDigit($0) }) else { return false }
            return (5...8).contains(variant.count) || (variant.count == 4 && variant.first.map(isDigit) == true)
        }
    }

    private static func isLetter(_ c: Character) -> Bool { c.isASCII && c.isLetter }
    private static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
}
