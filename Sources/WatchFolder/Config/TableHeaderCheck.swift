/// Table headers the TOML parser would abort on instead of reporting.
///
/// TOMLKit's bundled toml++ asserts (and so aborts the process, release builds too) when a table header's first
/// key starts with anything but a key character, a quote or `]`: `[[[`, `[.]`, `[=]`, `[#]`, a lone `[`. A config
/// with such a typo must get a one-line error like any other, and a `SIGHUP` reload of it must not end the daemon:
/// such headers are refused here, before the parser sees them.
enum TableHeaderCheck {
    /// The first line (1-based) holding such a header, and what is wrong with it; nil when there is none.
    static func firstUnparsable(in text: String) -> (line: Int, message: String)? {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop { $0 == " " || $0 == "\t" }
            guard rest.first == "[" else { continue }
            rest = rest.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard let next = rest.first, next != "\r" else {
                return (index + 1, "a table header needs a name: [section] or [[section]]")
            }
            if next.isASCII && (next.isLetter || next.isNumber) || "_-\"']".contains(next) { continue }
            return (index + 1, "a table header needs a name: [section] or [[section]], saw '\(next)' where the name starts")
        }
        return nil
    }
}
