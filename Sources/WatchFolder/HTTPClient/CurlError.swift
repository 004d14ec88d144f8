import CCurl

/// A libcurl failure: the C call, its `CURLcode`, `curl_easy_strerror` text and the `CURLOPT_ERRORBUFFER` detail.
struct CurlError: Error, CustomStringConvertible, Sendable {
    var call: String
    var code: Int
    var message: String
    var detail: String

    /// Transport failures worth another attempt: connection refused or reset, timeouts, truncated transfers.
    var isTransient: Bool {
        let transient: Set<UInt32> = [
            CURLE_COULDNT_RESOLVE_HOST.rawValue, CURLE_COULDNT_CONNECT.rawValue, CURLE_OPERATION_TIMEDOUT.rawValue,
            CURLE_SEND_ERROR.rawValue, CURLE_RECV_ERROR.rawValue, CURLE_GOT_NOTHING.rawValue,
            CURLE_PARTIAL_FILE.rawValue, CURLE_SSL_CONNECT_ERROR.rawValue, CURLE_HTTP2.rawValue,
            CURLE_HTTP2_STREAM.rawValue, CURLE_SEND_FAIL_REWIND.rawValue,
        ]
        return transient.contains(UInt32(code))
    }

    /// `CURLE_ABORTED_BY_CALLBACK`: the transfer was cancelled on purpose.
    var isCancellation: Bool { code == Int(CURLE_ABORTED_BY_CALLBACK.rawValue) }

    var description: String {
        let extra = detail.isEmpty || detail == message ? "" : " (\(detail))"
        return "\(call) failed: curl error \(code): \(message)\(extra)"
    }
}
