import Crypto
import Foundation
import Logging

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
