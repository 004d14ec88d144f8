import CAV
import Foundation

/// Settings for one H.264 rendition encoder.
struct VideoEncoderSettings {
    var encoder: String
    var width: Int
    var height: Int
    var frameRate: AVRational
    var bitrate: Int
    var maxrate: Int
    var bufsize: Int
    var preset: String
    var gop: Int
    var globalHeader: Bool
    /// The surfaces a hardware-frame encoder (VA-API) takes; nil for encoders fed software frames.
    var hardwareFrames: HardwareFrames? = nil
}

/// Opens encoders with the options the HLS package needs.
enum Encoders {
    /// The device whose surfaces `encoder` takes: VA-API encodes only frames uploaded to its device.
    static func deviceType(for encoder: String) -> AVHWDeviceType? {
        encoder == "h264_vaapi" ? AV_HWDEVICE_TYPE_VAAPI : nil
    }

    /// The pixel format the filter graph hands `encoder` (QSV and VA-API take NV12).
    static func softwareFormat(for encoder: String) -> AVPixelFormat {
        encoder == "h264_qsv" || encoder == "h264_vaapi" ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P
    }

    /// An H.264 encoder (libx264 High with `scenecut=0` and forced IDRs, or a GPU encoder) ready for frames.
    /// - Throws: ``MediaError`` when the encoder is missing or does not open (a GPU that is not there).
    static func video(_ s: VideoEncoderSettings) throws(MediaError) -> CodecContext {
        guard let codec = avcodec_find_encoder_by_name(s.encoder) else {
            throw MediaError(stage: "encode", call: "avcodec_find_encoder_by_name(\(s.encoder))", code: CAV_AVERROR(ENOSYS),
                             message: "encoder \(s.encoder) is not in this libavcodec")
        }
        let ctx = try CodecContext(codec: codec, stage: "encode")
        let c = ctx.raw
        c.pointee.width = Int32(s.width)
        c.pointee.height = Int32(s.height)
        if let frames = s.hardwareFrames {
            c.pointee.pix_fmt = frames.format
            c.pointee.hw_frames_ctx = frames.reference()
        } else {
            c.pointee.pix_fmt = softwareFormat(for: s.encoder)
        }
        c.pointee.time_base = AVRational(num: s.frameRate.den, den: s.frameRate.num)
        c.pointee.framerate = s.frameRate
        c.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        ColourPolicy.tagBT709(c)  // written into the VUI: players need not guess
        c.pointee.bit_rate = Int64(s.bitrate)
        c.pointee.rc_max_rate = Int64(s.maxrate)
        c.pointee.rc_buffer_size = Int32(clamping: s.bufsize)
        c.pointee.gop_size = Int32(s.gop)
        c.pointee.thread_count = 0
        if s.globalHeader { c.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
        var options: [(String, String)] = [("forced-idr", "1")]
        switch s.encoder {
        case "libx264":
            options += [("preset", s.preset), ("profile", "high"), ("x264-params", "scenecut=0:open-gop=0")]
        case "h264_nvenc":
            options += [("profile", "high"), ("rc", "vbr"), ("no-scenecut", "1")]
        case "h264_qsv":
            options += [("profile", "high")]
        default:
            options += [("profile", "high")]
        }
        try ctx.open(options: options)
        return ctx
    }

    /// The shared AAC-LC stereo 48 kHz encoder.
    static func aac(bitrate: Int, globalHeader: Bool) throws(MediaError) -> CodecContext {
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_AAC) else {
            throw MediaError(stage: "encode", call: "avcodec_find_encoder(aac)", code: CAV_AVERROR(ENOSYS))
        }
        let ctx = try CodecContext(codec: codec, stage: "encode")
        let c = ctx.raw
        c.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        c.pointee.sample_rate = 48_000
        av_channel_layout_default(&c.pointee.ch_layout, 2)
        c.pointee.bit_rate = Int64(bitrate)
        c.pointee.time_base = AVRational(num: 1, den: 48_000)
        if globalHeader { c.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
        try ctx.open()
        return ctx
    }

    /// `avc1.PPCCLL` from the encoder's SPS (extradata, Annex B or avcC), else from profile/level fields.
    static func avc1Codecs(_ ctx: CodecContext) -> String {
        let c = ctx.raw.pointee
        if let data = c.extradata, c.extradata_size > 4 {
            let bytes = UnsafeBufferPointer(start: data, count: Int(c.extradata_size))
            if bytes[0] == 1, bytes.count >= 4 {  // avcC
                return String(format: "avc1.%02X%02X%02X", bytes[1], bytes[2], bytes[3])
            }
            var i = 0
            while i + 6 < bytes.count {
                if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1, bytes[i + 3] & 0x1F == 7 {
                    return String(format: "avc1.%02X%02X%02X", bytes[i + 4], bytes[i + 5], bytes[i + 6])
                }
                i += 1
            }
        }
        let profile = c.profile > 0 ? Int(c.profile) & 0xFF : 100
        let level = c.level > 0 ? Int(c.level) : 40
        return String(format: "avc1.%02X00%02X", profile, level)
    }
}
