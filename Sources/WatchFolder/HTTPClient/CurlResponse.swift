/// What the server answered.
struct CurlResponse: Sendable {
    var status: Int
    /// Header names lowercased; the last value of a repeated header wins.
    var headers: [String: String]
    var body: [UInt8]

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}
