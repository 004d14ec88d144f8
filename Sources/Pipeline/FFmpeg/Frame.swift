import CAV

/// An owned `AVFrame`, freed in `deinit`.
final class Frame {
    let raw: UnsafeMutablePointer<AVFrame>

    init() throws(MediaError) {
        guard let f = av_frame_alloc() else {
            throw MediaError(stage: "alloc", call: "av_frame_alloc", code: CAV_AVERROR(ENOMEM))
        }
        raw = f
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = raw
        av_frame_free(&p)
    }

    /// Drops the frame's buffers so it can be reused.
    func unref() { av_frame_unref(raw) }

    /// Makes this frame another reference to `other`'s buffers, dropping its own first.
    func reference(_ other: Frame) {
        av_frame_unref(raw)
        av_frame_ref(raw, other.raw)
    }

    /// Presentation time, in the time base of whoever holds the frame.
    var pts: Int64 {
        get { raw.pointee.pts }
        set { raw.pointee.pts = newValue }
    }

    /// The quality an encoder in fixed-quality mode uses for this picture (lambda units).
    var quality: Int32 {
        get { raw.pointee.quality }
        set { raw.pointee.quality = newValue }
    }

    /// The decoder's best guess of the frame's time (`best_effort_timestamp`).
    var bestEffortTimestamp: Int64 { raw.pointee.best_effort_timestamp }

    /// The duration of the packet the frame came from (0 or less when unknown).
    var packetDuration: Int64 { raw.pointee.pkt_duration }

    var width: Int { Int(raw.pointee.width) }
    var height: Int { Int(raw.pointee.height) }
    var pixelFormat: AVPixelFormat { AVPixelFormat(rawValue: raw.pointee.format) }
    var sampleFormat: AVSampleFormat { AVSampleFormat(rawValue: raw.pointee.format) }
    /// libavutil's names of the frame's pixel format (`yuv420p`) and sample format (`fltp`), or nil.
    var pixelFormatName: String? { LibAV.name(of: pixelFormat) }
    var sampleFormatName: String? { LibAV.name(of: sampleFormat) }
    var sampleAspectRatio: Rational { Rational(raw.pointee.sample_aspect_ratio) }
    var isInterlaced: Bool { raw.pointee.interlaced_frame != 0 }
    var sampleRate: Int32 { raw.pointee.sample_rate }
    var sampleCount: Int32 { raw.pointee.nb_samples }

    /// The frame's colour tags (the filters read them from the frame).
    var colour: ColourTags {
        get {
            ColourTags(primaries: raw.pointee.color_primaries, transfer: raw.pointee.color_trc, matrix: raw.pointee.colorspace,
                       range: raw.pointee.color_range)
        }
        set {
            raw.pointee.color_primaries = newValue.primaries
            raw.pointee.color_trc = newValue.transfer
            raw.pointee.colorspace = newValue.matrix
            raw.pointee.color_range = newValue.range
        }
    }

    /// An IDR (`true`) or the encoder's choice (`false`) for this picture.
    func forceKeyFrame(_ key: Bool) { raw.pointee.pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE }

    /// The channel layout's name as libavfilter reads it (`stereo`, `5.1(side)`).
    var channelLayoutName: String {
        var buffer = [CChar](repeating: 0, count: 128)
        var layout = raw.pointee.ch_layout
        av_channel_layout_describe(&layout, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Gives an audio frame whose channels have no order the default layout for its channel count.
    func defaultUnspecifiedChannelLayout() {
        guard raw.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC else { return }
        let n = raw.pointee.ch_layout.nb_channels
        av_channel_layout_uninit(&raw.pointee.ch_layout)
        av_channel_layout_default(&raw.pointee.ch_layout, n)
    }

    /// An empty frame with `other`'s sample format, rate and channel layout (a layout copy that fails leaves the
    /// layout empty, as libav's own callers tolerate).
    static func audioFormat(of other: Frame) throws(MediaError) -> Frame {
        let f = try Frame()
        f.raw.pointee.format = other.raw.pointee.format
        f.raw.pointee.sample_rate = other.raw.pointee.sample_rate
        _ = av_channel_layout_copy(&f.raw.pointee.ch_layout, &other.raw.pointee.ch_layout)
        return f
    }

    /// `samples` samples of silence in `format`'s sample format, rate and layout, at `pts`.
    static func silence(like format: Frame, samples: Int32, pts: Int64) throws(MediaError) -> Frame {
        let silence = try Frame()
        silence.raw.pointee.format = format.raw.pointee.format
        silence.raw.pointee.sample_rate = format.raw.pointee.sample_rate
        try MediaError.check(av_channel_layout_copy(&silence.raw.pointee.ch_layout, &format.raw.pointee.ch_layout),
                             stage: "audio", "av_channel_layout_copy")
        silence.raw.pointee.nb_samples = samples
        try MediaError.check(av_frame_get_buffer(silence.raw, 0), stage: "audio", "av_frame_get_buffer")
        av_samples_set_silence(silence.raw.pointee.extended_data, 0, samples, silence.raw.pointee.ch_layout.nb_channels,
                               silence.sampleFormat)
        silence.pts = pts
        return silence
    }

    /// A picture of `width`x`height` in `format`, its buffers allocated.
    static func picture(width: Int, height: Int, format: AVPixelFormat, stage: String) throws(MediaError) -> Frame {
        let f = try Frame()
        f.raw.pointee.width = Int32(width)
        f.raw.pointee.height = Int32(height)
        f.raw.pointee.format = format.rawValue
        try MediaError.check(av_frame_get_buffer(f.raw, 0), stage: stage, "av_frame_get_buffer")
        return f
    }
}
