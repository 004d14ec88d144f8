import CCurl
import Foundation
import Synchronization

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

/// What the server answered.
struct CurlResponse: Sendable {
    var status: Int
    /// Header names lowercased; the last value of a repeated header wins.
    var headers: [String: String]
    var body: [UInt8]

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

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

/// A flag shared by the transfers of one upload; once set, running transfers abort and no new one starts.
final class CurlCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
    func cancel() { flag.store(true, ordering: .relaxed) }
}

/// The per-transfer state curl's C callbacks reach through their `void *` argument.
private final class TransferContext {
    var fd: Int32 = -1
    var offset: Int64 = 0
    var remaining: Int64 = 0
    var bytes: [UInt8] = []
    var bytesSent = 0
    var response: [UInt8] = []
    var maxResponseBytes = 0
    var headers: [String: String] = [:]
    var readError: Int32 = 0
    let cancelled: CurlCancellation?
    /// Stall detection: bytes moved (both ways) at the last change, and when (monotonic seconds).
    var stallSeconds: Double = 30
    var lastBytes: Int64 = -1
    var lastChange: Double = 0
    var stalled = false

    /// Called from the progress callback: true when no byte has moved for `stallSeconds`.
    func checkStall(moved: Int64) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let seconds = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        if moved != lastBytes {
            lastBytes = moved
            lastChange = seconds
            return false
        }
        if seconds - lastChange > stallSeconds { stalled = true }
        return stalled
    }

    init(cancelled: CurlCancellation?) { self.cancelled = cancelled }
}

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
        let context = TransferContext(cancelled: cancelled)
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
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
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
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
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
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
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
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
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
