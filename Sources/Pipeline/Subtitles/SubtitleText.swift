import Foundation

/// Text of a subtitle cue made into a WebVTT cue payload.
enum SubtitleText {
    /// The text of an ASS dialogue event as libavcodec's text subtitle decoders give it
    /// (`ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text`): the `Text` field with its `{\...}`
    /// override blocks removed, `\N` and `\n` as line breaks, `\h` as a space, then escaped for WebVTT.
    static func fromASS(_ event: String) -> String {
        var fields = 0
        var start = event.startIndex
        for i in event.indices where event[i] == "," {
            fields += 1
            if fields == 8 { start = event.index(after: i); break }
        }
        let raw = fields == 8 ? event[start...] : event[...]
        var out = ""
        var inBlock = false
        var chars = raw.makeIterator()
        while let c = chars.next() {
            if inBlock { if c == "}" { inBlock = false }; continue }
            if c == "{" { inBlock = true; continue }
            if c == "\\" {
                guard let n = chars.next() else { break }
                switch n {
                case "N", "n": out.append("\n")
                case "h": out.append(" ")
                default: out.append(c); out.append(n)
                }
                continue
            }
            out.append(c)
        }
        return payload(escape(out))
    }

    /// A SubRip cue's text: `<i>`, `<b>`, `<u>` kept (WebVTT has them), any other tag (`<font ...>`) and `{\...}`
    /// override blocks dropped, the rest escaped.
    static func fromSubRip(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: ">") }) {
            return payload(text)
        }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "{", text[text.index(after: i)...].hasPrefix("\\"), let close = text[i...].firstIndex(of: "}") {
                i = text.index(after: close)
                continue
            }
            if c == "<", let close = text[i...].firstIndex(of: ">") {
                let tag = text[text.index(after: i)..<close].lowercased()
                if ["i", "b", "u", "/i", "/b", "/u"].contains(tag) {
                    out += "<\(tag)>"
                    i = text.index(after: close)
                    continue
                }
                if let first = tag.first, first.isLetter || first == "/" {
                    i = text.index(after: close)
                    continue
                }
            }
            out += escape(String(c))
            i = text.index(after: i)
        }
        return payload(out)
    }

    /// A WebVTT sidecar's cue payload, kept as written (its tags and entities are WebVTT's) but for `-->`.
    static func fromWebVTT(_ text: String) -> String {
        payload(text.replacingOccurrences(of: "-->", with: "--&gt;"))
    }

    /// `&`, `<` and `>` as character references.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Lines trimmed, blank lines (which would end a cue) and control characters but tab dropped, cut to
    /// ``SubtitleCue/Bounds/maxTextBytes`` at a character boundary.
    static func payload(_ s: String) -> String {
        let lines = s.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
            .map { line in
                String(String.UnicodeScalarView(line.unicodeScalars.filter {
                    $0 == "\t" || $0.properties.generalCategory != .control
                })).trimmingCharacters(in: .whitespaces)
            }
            .filter { !$0.isEmpty }
        var text = lines.joined(separator: "\n")
        if text.utf8.count > SubtitleCue.Bounds.maxTextBytes {
            var cut = ""
            for c in text {
                if cut.utf8.count + String(c).utf8.count > SubtitleCue.Bounds.maxTextBytes { break }
                cut.append(c)
            }
            text = cut
        }
        return text
    }
}
