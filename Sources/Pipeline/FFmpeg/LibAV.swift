import CAV
import Foundation

/// Process-wide libav set-up.
enum LibAV {
    /// Silences libav's own stderr logging (errors reach callers as one-line errors instead);
    /// `WATCHFOLDER_AV_LOG=debug|verbose|info|warning|error` turns it back on for diagnosis.
    static let configured: Bool = {
        let level: Int32 = switch ProcessInfo.processInfo.environment["WATCHFOLDER_AV_LOG"] {
        case "debug": AV_LOG_DEBUG
        case "verbose": AV_LOG_VERBOSE
        case "info": AV_LOG_INFO
        case "warning": AV_LOG_WARNING
        case "error": AV_LOG_ERROR
        default: AV_LOG_QUIET
        }
        av_log_set_level(level)
        return true
    }()

    static func configure() { _ = configured }

    /// libavutil's name of pixel format `format` (`yuv420p`), or nil for none.
    static func name(of format: AVPixelFormat) -> String? { av_get_pix_fmt_name(format).map { String(cString: $0) } }

    /// libavutil's name of sample format `format` (`fltp`), or nil for none.
    static func name(of format: AVSampleFormat) -> String? { av_get_sample_fmt_name(format).map { String(cString: $0) } }

    /// Bits per component and chroma subsampling (log2 of the horizontal and vertical factors) of `format`; nil for
    /// a format libavutil does not describe.
    static func layout(of format: AVPixelFormat) -> (depth: Int, chromaShift: (Int, Int))? {
        av_pix_fmt_desc_get(format).map { d in
            (Int(d.pointee.comp.0.depth), (Int(d.pointee.log2_chroma_w), Int(d.pointee.log2_chroma_h)))
        }
    }

    /// The rational nearest `value` whose terms are at most `max` (`av_d2q`).
    static func rational(approximating value: Double, max: Int32) -> Rational { Rational(av_d2q(value, max)) }

    /// `num/den` reduced, both at most `max` (`av_reduce`).
    static func reduced(_ num: Int64, _ den: Int64, max: Int64) -> Rational {
        var n: Int32 = 0, d: Int32 = 0
        av_reduce(&n, &d, num, den, max)
        return Rational(n, d)
    }
}
