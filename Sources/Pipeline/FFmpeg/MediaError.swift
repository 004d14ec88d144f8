import CAV

/// A failed libav call: which call, its return code, the `av_strerror` text, and the stage it happened in.
///
/// Stays inside the engine: the layers above the wrappers map it onto the one-line error callers see.
struct MediaError: Error, CustomStringConvertible {
    /// `demux`, `decode`, `filter`, `encode`, `mux`, `probe`, `thumbnail`...
    var stage: String
    /// The libav function that failed (`avformat_open_input`).
    var call: String
    /// Its negative return code (0 when the failure is not a libav return code).
    var code: Int32
    /// `av_strerror` text, or our own explanation.
    var message: String

    init(stage: String, call: String, code: Int32, message: String? = nil) {
        self.stage = stage
        self.call = call
        self.code = code
        self.message = message ?? MediaError.text(for: code)
    }

    /// A failure of our own with the system error `errno` as its code (`EFBIG`: an output past its bound).
    init(stage: String, call: String, errno: Int32, message: String? = nil) {
        self.init(stage: stage, call: call, code: CAV_AVERROR(errno), message: message)
    }

    var description: String { "\(stage): \(call) failed: \(message)" }

    /// `av_strerror(code)`.
    static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when the call failed for want of memory (`ENOMEM`).
    var isOutOfMemory: Bool { Self.isOutOfMemory(code) }

    /// True when `code`, a libav status, is `ENOMEM`.
    static func isOutOfMemory(_ code: Int32) -> Bool { code == CAV_AVERROR(ENOMEM) }

    /// True when libav found the data invalid (`AVERROR_INVALIDDATA`).
    var isInvalidData: Bool { code == AVStatus.invalidData }

    /// True when the call failed with the system error `errno` (`EIO`, `ENOENT`).
    func hasErrno(_ errno: Int32) -> Bool { code == CAV_AVERROR(errno) }

    /// Throws when `ret < 0`; returns `ret` otherwise.
    @discardableResult
    static func check(_ ret: Int32, stage: String, _ call: String) throws(MediaError) -> Int32 {
        if ret < 0 { throw MediaError(stage: stage, call: call, code: ret) }
        return ret
    }
}
