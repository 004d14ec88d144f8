import CAV

/// A failed libav call: which call, its return code, the `av_strerror` text, and the stage it happened in.
///
/// Stays inside the FFmpeg layer; ``PipelineError`` is what callers see.
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

    var description: String { "\(stage): \(call) failed: \(message)" }

    /// `av_strerror(code)`.
    static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Throws when `ret < 0`; returns `ret` otherwise.
    @discardableResult
    static func check(_ ret: Int32, stage: String, _ call: String) throws(MediaError) -> Int32 {
        if ret < 0 { throw MediaError(stage: stage, call: call, code: ret) }
        return ret
    }
}
