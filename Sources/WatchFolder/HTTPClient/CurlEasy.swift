import CCurl
import Foundation

/// An owned libcurl easy handle (`CURL *`), freed in `deinit`.
///
/// A handle is reused for many requests (`curl_easy_reset` keeps its connection cache), so connections to the
/// same host are kept alive between requests.
/// - Important: Not `Sendable`: a handle belongs to the thread that runs its transfers (see ``CurlWorkers``).
final class CurlEasy {
    private let raw: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Checked by the progress callback; when it becomes true the running transfer is aborted.
    let cancelled: CurlCancellation?

    /// - Throws: ``CurlError`` when libcurl cannot be initialised or allocate a handle.
    init(cancelled: CurlCancellation? = nil) throws(CurlError) {
        try CurlGlobal.ensureInitialized()
        guard let handle = curl_easy_init() else {
            throw CurlError(call: "curl_easy_init", code: Int(CURLE_OUT_OF_MEMORY.rawValue),
                            message: "out of memory", detail: "")
        }
        raw = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.cancelled = cancelled
    }

    deinit {
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// Runs one request to completion on the calling thread (blocking).
    /// - Returns: The status, headers and body, whatever the HTTP status.
    /// - Throws: ``CurlError`` for transport failures (connect, timeout, reset, local read errors).
    func perform(_ request: CurlRequest) throws(CurlError) -> CurlResponse {
        curl_easy_reset(raw)
        errorBuffer[0] = 0
        let context = CurlTransfer(cancelled: cancelled)
        context.maxResponseBytes = request.maxResponseBytes
        context.stallSeconds = Double(request.stallSeconds)
        defer { if context.fd >= 0 { close(context.fd) } }

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for line in request.headers { headerList = curl_slist_append(headerList, line) }

        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        try check("CURLOPT_ERRORBUFFER", CCurl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer))
        try check("CURLOPT_URL", CCurl_setopt_string(raw, CURLOPT_URL, request.url))
        try check("CURLOPT_NOSIGNAL", CCurl_setopt_long(raw, CURLOPT_NOSIGNAL, 1))
        try check("CURLOPT_CONNECTTIMEOUT", CCurl_setopt_long(raw, CURLOPT_CONNECTTIMEOUT, request.connectTimeoutSeconds))
        if let timeout = request.timeoutSeconds {
            try check("CURLOPT_TIMEOUT", CCurl_setopt_long(raw, CURLOPT_TIMEOUT, timeout))
        }
        try check("CURLOPT_HTTPHEADER", CCurl_setopt_slist(raw, CURLOPT_HTTPHEADER, headerList))
        if let sigv4 = request.awsSigV4 {
            try check("CURLOPT_AWS_SIGV4", CCurl_setopt_string(raw, CURLOPT_AWS_SIGV4, sigv4))
        }
        if let userPassword = request.userPassword {
            try check("CURLOPT_USERPWD", CCurl_setopt_string(raw, CURLOPT_USERPWD, userPassword))
        }

        try check("CURLOPT_WRITEDATA", CCurl_setopt_pointer(raw, CURLOPT_WRITEDATA, contextPointer))
        try check("CURLOPT_WRITEFUNCTION", CCurl_setopt_write(raw) { data, size, count, user in
            let context = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if context.response.count < context.maxResponseBytes, let data {
                let take = min(n, context.maxResponseBytes - context.response.count)
                data.withMemoryRebound(to: UInt8.self, capacity: take) {
                    context.response.append(contentsOf: UnsafeBufferPointer(start: $0, count: take))
                }
            }
            return n
        })
        try check("CURLOPT_HEADERDATA", CCurl_setopt_pointer(raw, CURLOPT_HEADERDATA, contextPointer))
        try check("CURLOPT_HEADERFUNCTION", CCurl_setopt_header(raw) { data, size, count, user in
            let context = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            guard let data else { return n }
            let line = data.withMemoryRebound(to: UInt8.self, capacity: n) {
                String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
            }
            if line.hasPrefix("HTTP/") { context.headers = [:] }  // a new response (after 100 Continue)
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                context.headers[name] = value
            }
            return n
        })
        try check("CURLOPT_XFERINFODATA", CCurl_setopt_pointer(raw, CURLOPT_XFERINFODATA, contextPointer))
        try check("CURLOPT_XFERINFOFUNCTION", CCurl_setopt_xferinfo(raw) { user, _, downloaded, _, uploaded in
            let context = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            if context.cancelled?.isCancelled == true { return 1 }
            return context.checkStall(moved: Int64(downloaded) + Int64(uploaded)) ? 1 : 0
        })
        try check("CURLOPT_NOPROGRESS", CCurl_setopt_long(raw, CURLOPT_NOPROGRESS, 0))

        switch request.method {
        case "GET": break
        case "HEAD": try check("CURLOPT_NOBODY", CCurl_setopt_long(raw, CURLOPT_NOBODY, 1))
        default: try check("CURLOPT_CUSTOMREQUEST", CCurl_setopt_string(raw, CURLOPT_CUSTOMREQUEST, request.method))
        }

        switch request.body {
        case .none:
            if request.method == "PUT" || request.method == "POST" { try setUpload(context: contextPointer, size: 0) }
        case .bytes(let bytes):
            context.bytes = bytes
            context.remaining = Int64(bytes.count)
            try setUpload(context: contextPointer, size: Int64(bytes.count))
        case .file(let path, let offset, let length):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                let e = errno
                throw CurlError(call: "open", code: Int(CURLE_READ_ERROR.rawValue),
                                message: String(cString: strerror(e)), detail: path)
            }
            context.fd = fd
            context.offset = offset
            context.remaining = length
            try setUpload(context: contextPointer, size: length)
        }

        let result = curl_easy_perform(raw)
        if result == CURLE_ABORTED_BY_CALLBACK && context.stalled {
            throw CurlError(call: "curl_easy_perform", code: Int(CURLE_OPERATION_TIMEDOUT.rawValue),
                            message: String(cString: curl_easy_strerror(CURLE_OPERATION_TIMEDOUT)),
                            detail: "no byte moved for \(request.stallSeconds) s")
        }
        guard result == CURLE_OK else {
            var detail = String(cString: errorBuffer)
            if context.readError != 0 { detail += " (read: \(String(cString: strerror(context.readError))))" }
            throw CurlError(call: "curl_easy_perform", code: Int(result.rawValue),
                            message: String(cString: curl_easy_strerror(result)), detail: detail)
        }
        var status = 0
        try check("CURLINFO_RESPONSE_CODE", CCurl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &status))
        return CurlResponse(status: status, headers: context.headers, body: context.response)
    }

    /// Sends a body of `size` bytes through the read callback (`CURLOPT_UPLOAD`; the method stays as set).
    private func setUpload(context: UnsafeMutableRawPointer, size: Int64) throws(CurlError) {
        try check("CURLOPT_UPLOAD", CCurl_setopt_long(raw, CURLOPT_UPLOAD, 1))
        try check("CURLOPT_INFILESIZE_LARGE", CCurl_setopt_off(raw, CURLOPT_INFILESIZE_LARGE, curl_off_t(size)))
        try check("CURLOPT_READDATA", CCurl_setopt_pointer(raw, CURLOPT_READDATA, context))
        try check("CURLOPT_READFUNCTION", CCurl_setopt_read(raw) { buffer, size, count, user in
            let context = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            guard let buffer else { return 0 }
            let want = Int(min(Int64(size * count), context.remaining))
            guard want > 0 else { return 0 }
            if context.fd >= 0 {
                var got = 0
                repeat { got = pread(context.fd, buffer, want, off_t(context.offset)) } while got < 0 && errno == EINTR
                if got < 0 { context.readError = errno; return Int(CURL_READFUNC_ABORT) }
                if got == 0 { context.readError = EIO; return Int(CURL_READFUNC_ABORT) }  // the file shrank
                context.offset += Int64(got)
                context.remaining -= Int64(got)
                return got
            }
            context.bytes.withUnsafeBytes { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + context.bytesSent, byteCount: want)
            }
            context.bytesSent += want
            context.remaining -= Int64(want)
            return want
        })
    }

    private func check(_ option: String, _ code: CURLcode) throws(CurlError) {
        guard code == CURLE_OK else {
            throw CurlError(call: "curl_easy_setopt(\(option))", code: Int(code.rawValue),
                            message: String(cString: curl_easy_strerror(code)), detail: String(cString: errorBuffer))
        }
    }
}
