import Foundation

/// Just enough XML for S3's answers (flat, well-formed documents from the server): the text of `<Tag>` elements,
/// and the blocks of repeated elements such as `<Contents>` or `<Upload>`.
enum S3XML {
    /// The contents of every `<tag>...</tag>` in `xml`, in order (entity-decoded when `decode`).
    static func all(_ tag: String, in xml: Substring, decode: Bool = true) -> [Substring] {
        var out: [Substring] = []
        let open = "<\(tag)>", close = "</\(tag)>"
        var rest = xml[...]
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            let inner = rest[start.upperBound..<end.lowerBound]
            out.append(decode ? Substring(unescape(inner)) : inner)
            rest = rest[end.upperBound...]
        }
        return out
    }

    /// The first `<tag>` text, entity-decoded.
    static func first(_ tag: String, in xml: Substring) -> String? {
        all(tag, in: xml, decode: false).first.map(unescape)
    }

    static func unescape(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].firstIndex(of: ";") {
                let entity = s[s.index(after: i)..<semi]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) {
                        replacement = String(Character(u))
                    } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) {
                        replacement = String(Character(u))
                    }
                }
                if let replacement {
                    out += replacement
                    i = s.index(after: semi)
                    continue
                }
            }
            out.append(s[i])
            i = s.index(after: i)
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
