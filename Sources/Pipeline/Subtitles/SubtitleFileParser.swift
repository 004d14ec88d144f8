import Foundation

/// Reads a subtitle sidecar, SubRip (`.srt`) or WebVTT (`.vtt`), into cues, strictly enough that a file which is not
/// one fails with the line where it stops making sense.
///
/// Lines end with LF, CRLF or CR; a UTF-8 byte order mark is skipped; every line must be UTF-8. SubRip blocks are an
/// optional number, a timing line (`00:00:01,000 --> 00:00:02,000`, `.` accepted for `,`, anything after the second
/// time ignored) and text up to a blank line (a timing line inside the text starts the next cue, as players read
/// files missing a blank line). WebVTT needs `WEBVTT` first; `NOTE`, `STYLE` and `REGION` blocks are skipped, cue
/// identifiers and settings accepted and dropped.
struct SubtitleFileParser {
    /// Why a file does not parse, and where.
    struct Failure: Error, Equatable {
        /// 1-based line number.
        var line: Int
        var reason: String
    }

    enum Format: String {
        case srt, vtt
    }

    let format: Format

    /// The cues of `bytes` (times as written, milliseconds; text as a WebVTT payload), in file order.
    /// - Throws: ``Failure`` at the first line that does not parse, or past ``SubtitleCue/Bounds/maxCues`` cues.
    func parse(_ bytes: [UInt8]) throws(Failure) -> [SubtitleCue] {
        let lines = try Self.lines(bytes)
        var cues: [SubtitleCue] = []
        var i = 0
        func add(_ cue: SubtitleCue, at line: Int) throws(Failure) {
            guard cues.count < SubtitleCue.Bounds.maxCues else {
                throw Failure(line: line, reason: "more than \(SubtitleCue.Bounds.maxCues) cues")
            }
            cues.append(cue)
        }
        if format == .vtt {
            guard let first = lines.first, first.hasPrefix("WEBVTT"),
                  first.count == 6 || first.dropFirst(6).first == " " || first.dropFirst(6).first == "\t" else {
                throw Failure(line: 1, reason: "expected \"WEBVTT\" as the first line, found \(Self.quoted(lines.first ?? ""))")
            }
            i = 1
            while i < lines.count, !lines[i].isBlank, lines[i].arrow == nil { i += 1 }  // the header, if any
        }
        while i < lines.count {
            if lines[i].isBlank { i += 1; continue }
            let word = lines[i].split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            if format == .vtt, ["NOTE", "STYLE", "REGION"].contains(word), lines[i].arrow == nil {
                while i < lines.count, !lines[i].isBlank { i += 1 }
                continue
            }
            // An index (SubRip) or identifier (WebVTT) line, then the timing line.
            if lines[i].arrow == nil {
                if format == .srt, !lines[i].trimmed.allSatisfy(\.isASCIIDigit) {
                    throw Failure(line: i + 1, reason: "expected a cue number or a timing line like \(example), found \(Self.quoted(lines[i]))")
                }
                i += 1
            }
            guard i < lines.count else {
                throw Failure(line: i, reason: "expected a timing line like \(example) after it, found the end of the file")
            }
            guard let (start, end) = timing(lines[i]) else {
                throw Failure(line: i + 1, reason: "expected a timing line like \(example), found \(Self.quoted(lines[i]))")
            }
            let timingLine = i + 1
            i += 1
            var text: [String] = []
            while i < lines.count, !lines[i].isBlank {
                if format == .srt, lines[i].arrow != nil, timing(lines[i]) != nil { break }
                text.append(lines[i])
                i += 1
            }
            if format == .srt, i < lines.count, !lines[i].isBlank, let last = text.last, last.trimmed.allSatisfy(\.isASCIIDigit) {
                text.removeLast()  // the next cue's number, its blank line missing
            }
            let joined = text.joined(separator: "\n")
            try add(SubtitleCue(start: start, end: end,
                                text: format == .srt ? SubtitleText.fromSubRip(joined) : SubtitleText.fromWebVTT(joined)),
                    at: timingLine)
        }
        return cues
    }

    private var example: String {
        format == .srt ? "\"00:00:01,000 --> 00:00:02,000\"" : "\"00:00:01.000 --> 00:00:02.000\""
    }

    /// The two times of a timing line, milliseconds; nil when it is not one.
    func timing(_ line: String) -> (Int64, Int64)? {
        guard let arrow = line.arrow else { return nil }
        let left = line[..<arrow].trimmed
        let right = line[line.index(arrow, offsetBy: 3)...].trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        guard let start = timestamp(left), let end = timestamp(right) else { return nil }
        return (start, end)
    }

    /// `HH:MM:SS,mmm` (SubRip; `.` accepted) or `[HH:]MM:SS.mmm` (WebVTT), milliseconds; hours up to 6 digits.
    func timestamp(_ s: String) -> Int64? {
        let separators: Set<Character> = format == .srt ? [",", "."] : ["."]
        guard let dot = s.lastIndex(where: { separators.contains($0) }) else { return nil }
        let fraction = s[s.index(after: dot)...]
        let parts = s[..<dot].split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit),
              parts.count == 3 || (format == .vtt && parts.count == 2),
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
        let numbers = parts.compactMap { Int64($0) }
        let (h, m, sec) = numbers.count == 3 ? (numbers[0], numbers[1], numbers[2]) : (0, numbers[0], numbers[1])
        guard m < 60, sec < 60, parts[parts.count - 1].count == 2, parts[parts.count - 2].count == 2 else { return nil }
        var ms = Int64(fraction)!
        for _ in fraction.count..<3 { ms *= 10 }
        return ((h * 60 + m) * 60 + sec) * 1000 + ms
    }

    /// The file's lines (LF, CRLF or CR), a leading UTF-8 byte order mark dropped.
    /// - Throws: ``Failure`` at the first line that is not UTF-8.
    static func lines(_ bytes: [UInt8]) throws(Failure) -> [String] {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var lines: [String] = []
        var start = body.startIndex
        var i = start
        func take(_ end: Int) throws(Failure) {
            guard let line = String(validating: body[start..<end], as: UTF8.self) else {
                throw Failure(line: lines.count + 1, reason: "not UTF-8 text (save the file as UTF-8)")
            }
            lines.append(line)
        }
        while i < body.endIndex {
            let b = body[i]
            if b == 0x0A || b == 0x0D {
                try take(i)
                if b == 0x0D, i + 1 < body.endIndex, body[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < body.endIndex { try take(body.endIndex) }
        return lines
    }

    /// `s` in quotes for a message: at most 40 characters, control characters and quotes escaped.
    static func quoted(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(40) {
            if scalar.properties.generalCategory == .control || scalar == "\"" || scalar == "\\" {
                out += scalar == "\"" ? "\\\"" : scalar == "\\" ? "\\\\" : String(format: "\\u{%02X}", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return "\"" + out + (s.unicodeScalars.count > 40 ? "...\"" : "\"")
    }
}

extension StringProtocol {
    fileprivate var isBlank: Bool { utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}

extension String {
    /// Where the line's first `-->` starts, found on its bytes.
    fileprivate var arrow: String.Index? {
        let bytes = utf8
        var i = bytes.startIndex, run = 0
        while i != bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "-") { run += 1 } else if b == UInt8(ascii: ">") && run >= 2 {
                return bytes.index(i, offsetBy: -2)
            } else { run = 0 }
            i = bytes.index(after: i)
        }
        return nil
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
