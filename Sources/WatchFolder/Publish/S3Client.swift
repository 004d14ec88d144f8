import Crypto
import Foundation
import Logging

/// How failed requests are retried: exponential backoff with jitter, a bounded number of attempts.
public struct S3RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included.
    public var maxAttempts: Int
    /// The delay before the second attempt; it doubles each time, up to ``maxDelay``, and is jittered to
    /// between half and all of that.
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(10)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay after failed attempt number `attempt` (1-based).
    func delay(after attempt: Int) -> Duration {
        let exponent = min(attempt - 1, 20)
        let full = min(maxDelay, baseDelay * (1 << exponent))
        let half = full / 2
        return half + half * Double.random(in: 0...1)
    }
}

/// Signs and sends single S3 requests (SigV4 through libcurl's `CURLOPT_AWS_SIGV4`), retrying what is retryable.
struct S3Client: Sendable {
    let endpoint: S3Endpoint
    let credentials: S3Credentials
    let retry: S3RetryPolicy
    let logger: Logger
    let workers: CurlWorkers
    /// A transfer that moves no byte for this many seconds times out (and is retried).
    var stallSeconds = 30

    /// SHA-256 of the empty payload, hex.
    static let emptyPayloadHash = SHA256.hash(data: [UInt8]()).hex

    /// Sends one request and returns the 2xx answer.
    /// - Parameters:
    ///   - payloadHash: Hex SHA-256 of the body (the `x-amz-content-sha256` header S3 requires).
    ///   - operation: For errors and logs, e.g. `PUT` or `POST ?uploads`.
    /// - Throws: ``S3Error``: at once for 4xx (403, `NoSuchBucket`...), after ``S3RetryPolicy/maxAttempts``
    ///   for 5xx, 429, `SlowDown` and transport failures.
    func send(_ method: String, key: String, query: [(String, String)] = [], headers: [String] = [],
              body: CurlRequest.Body = .none, payloadHash: String = S3Client.emptyPayloadHash,
              operation: String? = nil) async throws(S3Error) -> CurlResponse {
        let url = endpoint.url(key: key, query: query)
        var lines = headers
        lines.append("x-amz-content-sha256: \(payloadHash)")
        if let token = credentials.sessionToken { lines.append("x-amz-security-token: \(token)") }
        let request = CurlRequest(
            method: method, url: url, headers: lines, body: body,
            awsSigV4: "aws:amz:\(endpoint.region):s3",
            userPassword: "\(credentials.accessKeyID):\(credentials.secretAccessKey)",
            stallSeconds: stallSeconds)
        let operation = operation ?? method
        let target = endpoint.display(key: key)

        var attempt = 0
        while true {
            attempt += 1
            var error: S3Error
            do {
                let response = try await workers.run { easy in try easy.perform(request) }
                if (200..<300).contains(response.status), !Self.isErrorDocument(response) {
                    switch request.body {
                    case let .file(_, _, length): WatchFolderMetrics.s3Uploaded(bytes: Int(length))
                    case let .bytes(bytes) where method == "PUT": WatchFolderMetrics.s3Uploaded(bytes: bytes.count)  // manifest.json
                    default: break
                    }
                    return response
                }
                error = Self.httpError(response, operation: operation, target: target)
            } catch let curl as CurlError {
                if curl.isCancellation { throw S3Error(.cancelled, operation: operation, target: target, message: "cancelled") }
                error = S3Error(.transport, operation: operation, target: target, message: curl.description)
                error.transientTransport = curl.isTransient
            } catch {
                throw S3Error(.cancelled, operation: operation, target: target, message: "cancelled")
            }
            error.attempts = attempt
            WatchFolderMetrics.s3Failed()
            guard error.isRetryable, attempt < retry.maxAttempts else { throw error }
            let delay = retry.delay(after: attempt)
            logger.debug("S3 request failed, retrying", metadata: [
                "wf.s3.error": "\(error)", "wf.s3.attempt": "\(attempt)", "wf.s3.delay": "\(delay)",
            ])
            do { try await Task.sleep(for: delay) } catch {
                throw S3Error(.cancelled, operation: operation, target: target, message: "cancelled")
            }
        }
    }

    /// `CompleteMultipartUpload` may answer 200 with an `<Error>` document.
    private static func isErrorDocument(_ response: CurlResponse) -> Bool {
        guard !response.body.isEmpty, response.body.count < 64 << 10 else { return false }
        let text = response.bodyText
        return text.contains("<Error>") && !text.contains("<ListBucketResult") && !text.contains("<ListMultipartUploadsResult")
    }

    private static func httpError(_ response: CurlResponse, operation: String, target: String) -> S3Error {
        let text = Substring(response.bodyText)
        let code = S3XML.first("Code", in: text)
        var message = S3XML.first("Message", in: text) ?? ""
        if message.isEmpty {
            let reasons = [400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                           409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
                           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"]
            message = reasons[response.status] ?? "unexpected answer"
            if !text.isEmpty, code == nil { message += ": " + text.prefix(200) }
        }
        if code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed",
           let region = S3XML.first("Region", in: text) ?? S3XML.first("Endpoint", in: text) {
            message += " (\(region))"
        }
        return S3Error(.http, operation: operation, target: target, status: response.status, s3Code: code,
                       message: message)
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Streaming digests of a file range, a bounded buffer at a time.
enum FileDigest {
    /// Hex SHA-256 of `length` bytes of `path` from `offset`.
    static func sha256(path: String, offset: Int64, length: Int64) throws(S3Error) -> String {
        var hasher = SHA256()
        try read(path: path, offset: offset, length: length) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hex
    }

    /// Hex MD5 of `length` bytes of `path` from `offset` (to compare with a part's ETag on resume).
    static func md5(path: String, offset: Int64, length: Int64) throws(S3Error) -> String {
        var hasher = Insecure.MD5()
        try read(path: path, offset: offset, length: length) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hex
    }

    private static func read(path: String, offset: Int64, length: Int64,
                             _ body: (UnsafeRawBufferPointer) -> Void) throws(S3Error) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw S3Error(.localFile, target: path, message: "open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var position = offset
        var remaining = length
        while remaining > 0 {
            let got = pread(fd, buffer, Int(min(Int64(size), remaining)), off_t(position))
            if got < 0 {
                if errno == EINTR { continue }
                throw S3Error(.localFile, target: path, message: "pread: \(String(cString: strerror(errno)))")
            }
            if got == 0 { throw S3Error(.localFile, target: path, message: "file shrank while it was read") }
            body(UnsafeRawBufferPointer(start: buffer, count: got))
            position += Int64(got)
            remaining -= Int64(got)
        }
    }
}
