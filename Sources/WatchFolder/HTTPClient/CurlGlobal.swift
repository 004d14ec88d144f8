import CCurl

/// Calls `curl_global_init` once per process, before the first easy handle.
enum CurlGlobal {
    private static let result: CURLcode = curl_global_init(CCurl_GLOBAL_DEFAULT)

    static func ensureInitialized() throws(CurlError) {
        guard result == CURLE_OK else {
            throw CurlError(call: "curl_global_init", code: Int(result.rawValue),
                            message: String(cString: curl_easy_strerror(result)), detail: "")
        }
    }
}
