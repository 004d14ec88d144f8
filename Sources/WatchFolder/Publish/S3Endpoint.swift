/// Builds object URLs for a bucket: AWS or a custom endpoint, virtual-hosted or path-style addressing.
///
/// Keys and query values are percent-encoded exactly as SigV4's canonical request wants them (every byte but
/// `A-Z a-z 0-9 - _ . ~`, and `/` in keys), and query parameters are emitted sorted. libcurl 7.88 signs the
/// request target as sent, so what is sent is already canonical.
struct S3Endpoint: Sendable, Hashable {
    var bucket: String
    var region: String
    /// `https://host[:port]` for AWS; the configured endpoint otherwise (no trailing slash).
    private var scheme: String
    private var host: String
    private var basePath: String
    var pathStyle: Bool

    init(config: Config.S3) {
        bucket = config.bucket
        region = config.region
        pathStyle = config.pathStyle
        if let endpoint = config.endpoint {
            let parts = endpoint.split(separator: "://", maxSplits: 1).map(String.init)
            scheme = parts.count == 2 ? parts[0] : "https"
            let rest = parts.count == 2 ? parts[1] : parts[0]
            if let slash = rest.firstIndex(of: "/") {
                host = String(rest[..<slash])
                basePath = String(rest[slash...]).trimmingTrailingSlashes()
            } else {
                host = rest
                basePath = ""
            }
        } else {
            scheme = "https"
            host = "s3.\(config.region).amazonaws.com"
            basePath = ""
        }
    }

    /// The URL of `key` (or of the bucket when `key` is empty) with `query` parameters.
    func url(key: String, query: [(String, String)] = []) -> String {
        var url: String
        if pathStyle {
            url = "\(scheme)://\(host)\(basePath)/\(Self.encode(bucket, keepSlash: false))/\(Self.encode(key, keepSlash: true))"
        } else {
            url = "\(scheme)://\(bucket).\(host)\(basePath)/\(Self.encode(key, keepSlash: true))"
        }
        if !query.isEmpty {
            let sorted = query.map { (Self.encode($0.0, keepSlash: false), Self.encode($0.1, keepSlash: false)) }
                .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            url += "?" + sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        }
        return url
    }

    /// `s3://bucket/key`, for messages.
    func display(key: String) -> String { key.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(key)" }

    /// SigV4 URI encoding: every byte except unreserved characters (and `/` when `keepSlash`) as `%XX`.
    static func encode(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return out
    }
}

extension String {
    func trimmingTrailingSlashes() -> String {
        var s = self
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
