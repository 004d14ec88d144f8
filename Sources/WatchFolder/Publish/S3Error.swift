/// Why an S3 upload failed, in one line: the operation, the object, the HTTP status with S3's error code and
/// message (or the curl failure), and how many attempts were made.
///
/// ```
/// S3 PUT s3://media/shows/ep1/master.m3u8: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match ...
/// ```
public struct S3Error: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; extensible (new kinds may be added).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String { case http, transport, credentials, localFile, verification, cancelled }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// The server answered with an error status (or an `<Error>` document).
        public static let http = Code(.http)
        /// No usable answer: connection refused or reset, timeout (curl's message is in ``S3Error/message``).
        public static let transport = Code(.transport)
        /// No credentials in the config, the environment or `~/.aws/credentials`.
        public static let credentials = Code(.credentials)
        /// A file of the package could not be read.
        public static let localFile = Code(.localFile)
        /// After the upload, the bucket does not hold every object with its size.
        public static let verification = Code(.verification)
        /// The upload was cancelled.
        public static let cancelled = Code(.cancelled)

        public var description: String { kind.rawValue }
    }

    public var code: Code
    /// What was sent, e.g. `PUT`, `POST ?uploads`, `GET ?list-type=2`.
    public var operation: String
    /// `s3://bucket/key` (or the bucket alone).
    public var target: String
    /// The HTTP status, when there was an answer.
    public var status: Int?
    /// S3's error code (`AccessDenied`, `NoSuchBucket`, `SlowDown`...), when the answer had one.
    public var s3Code: String?
    /// S3's message, or curl's; flattened to one line.
    public var message: String
    /// Attempts made (retries + 1).
    public var attempts: Int
    /// A transport failure worth retrying (refused, reset, timed out); see ``CurlError/isTransient``.
    var transientTransport = false

    init(_ code: Code, operation: String = "", target: String = "", status: Int? = nil, s3Code: String? = nil,
         message: String, attempts: Int = 1) {
        self.code = code
        self.operation = operation
        self.target = target
        self.status = status
        self.s3Code = s3Code
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.attempts = attempts
    }

    /// Whether another attempt may succeed: 5xx, 429, `SlowDown`, `RequestTimeout`, transient transport failures
    /// (refused, reset, timed out). 403, 404 (`NoSuchBucket`) and other 4xx fail at once.
    var isRetryable: Bool {
        switch code {
        case .transport: return transientTransport
        case .http:
            guard let status else { return false }
            return status >= 500 || status == 429 || s3Code == "SlowDown" || s3Code == "RequestTimeout"
        default: return false
        }
    }

    public var description: String {
        var line = "S3"
        if !operation.isEmpty { line += " \(operation)" }
        if !target.isEmpty { line += " \(target)" }
        line += ": "
        if let status { line += "HTTP \(status) " }
        if let s3Code { line += "\(s3Code): " }
        line += message
        if attempts > 1 { line += " (after \(attempts) attempts)" }
        return line
    }
}
