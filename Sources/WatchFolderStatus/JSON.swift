import Foundation
import Hummingbird

/// Tiny JSON helpers (sorted keys, no escaped slashes).
enum JSON {
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    static func object(_ value: [String: String]) -> String { encode(value) }

    /// A 200 (or `status`) response with a JSON body.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status,
                 headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: encode(value))))
    }
}
