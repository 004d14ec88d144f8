/// One HTTP request for ``CurlEasy/perform(_:)``.
struct CurlRequest: Sendable {
    /// Where the request body comes from. Files are streamed from disk through curl's read callback, a bounded
    /// buffer at a time: a file (or a part of one) is never read into memory whole.
    enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of the file at `path`, starting at `offset`.
        case file(path: String, offset: Int64, length: Int64)
    }

    var method: String
    var url: String
    /// Complete header lines, `Name: value`.
    var headers: [String] = []
    var body: Body = .none
    /// `CURLOPT_AWS_SIGV4`, e.g. `aws:amz:us-east-1:s3`; with ``userPassword`` as `key:secret`.
    var awsSigV4: String?
    var userPassword: String?
    /// Seconds to connect; a transfer that moves no byte (either way) for ``stallSeconds`` times out
    /// (`CURLE_OPERATION_TIMEDOUT`, checked in the progress callback; whole transfers have no time limit).
    var stallSeconds: Int = 30
    var connectTimeoutSeconds: Int = 10
    /// Seconds the whole transfer may take (`CURLOPT_TIMEOUT`); nil: no limit beyond the stall rule.
    var timeoutSeconds: Int?
    /// Response bodies larger than this are cut (S3 answers are small XML documents).
    var maxResponseBytes: Int = 32 << 20
}
