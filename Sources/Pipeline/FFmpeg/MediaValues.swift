import CAV

/// A libav rational (a time base, a frame rate, an aspect ratio) as a Swift value.
struct Rational: Hashable {
    var num: Int32
    var den: Int32

    init(_ num: Int32, _ den: Int32) {
        self.num = num
        self.den = den
    }

    init(_ q: AVRational) { self.init(q.num, q.den) }

    var av: AVRational { AVRational(num: num, den: den) }

    /// `num / den` (`av_q2d`).
    var value: Double { av_q2d(av) }

    /// `den / num`: the time base of a frame rate, the rate of a time base.
    var inverse: Rational { Rational(den, num) }

    /// `ticks` of `from` in ticks of `to`, rounded to the nearest (`av_rescale_q`).
    static func rescale(_ ticks: Int64, from: Rational, to: Rational) -> Int64 { av_rescale_q(ticks, from.av, to.av) }
}

/// What a stream carries.
enum MediaType: Hashable {
    case video, audio, subtitle, attachment, data

    init(_ type: AVMediaType) {
        switch type {
        case AVMEDIA_TYPE_VIDEO: self = .video
        case AVMEDIA_TYPE_AUDIO: self = .audio
        case AVMEDIA_TYPE_SUBTITLE: self = .subtitle
        case AVMEDIA_TYPE_ATTACHMENT: self = .attachment
        default: self = .data
        }
    }

    var av: AVMediaType {
        switch self {
        case .video: AVMEDIA_TYPE_VIDEO
        case .audio: AVMEDIA_TYPE_AUDIO
        case .subtitle: AVMEDIA_TYPE_SUBTITLE
        case .attachment: AVMEDIA_TYPE_ATTACHMENT
        case .data: AVMEDIA_TYPE_DATA
        }
    }
}

/// A pixel format the engine names (the layouts it hands encoders).
struct PixelFormat: Hashable {
    let av: AVPixelFormat

    static let yuv420p = PixelFormat(av: AV_PIX_FMT_YUV420P)
    static let nv12 = PixelFormat(av: AV_PIX_FMT_NV12)
    /// 10-bit 4:2:0, little-endian.
    static let yuv420p10le = PixelFormat(av: AV_PIX_FMT_YUV420P10LE)

    /// libavutil's name (`yuv420p`), or nil.
    var name: String? { LibAV.name(of: av) }
}
