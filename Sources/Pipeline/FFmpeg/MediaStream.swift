import CAV

/// One stream of an ``InputFile``, read through its `AVStream` and codec parameters. It keeps its file open.
struct MediaStream {
    let raw: UnsafeMutablePointer<AVStream>
    /// The demuxer that owns the stream: kept alive as long as the stream is used.
    let input: InputFile

    private var parameters: AVCodecParameters { raw.pointee.codecpar.pointee }

    var type: MediaType { MediaType(parameters.codec_type) }
    /// libavcodec's name of the stream's codec (`h264`, `prores`, `aac`).
    var codecName: String { String(cString: avcodec_get_name(parameters.codec_id)) }
    /// libavcodec's name of the codec's profile (`High`, `Main 10`), if it has one.
    var profileName: String? { avcodec_profile_name(parameters.codec_id, parameters.profile).map { String(cString: $0) } }
    /// True when this libavcodec has a decoder for the stream.
    var hasDecoder: Bool { avcodec_find_decoder(parameters.codec_id) != nil }
    /// True for cover art (`AV_DISPOSITION_ATTACHED_PIC`): a picture, not video.
    var isAttachedPicture: Bool { raw.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 }
    /// True when the container marks the stream as the default of its type (`AV_DISPOSITION_DEFAULT`).
    var isDefault: Bool { raw.pointee.disposition & AV_DISPOSITION_DEFAULT != 0 }

    var width: Int { Int(parameters.width) }
    var height: Int { Int(parameters.height) }
    var pixelFormat: AVPixelFormat { AVPixelFormat(rawValue: parameters.format) }
    /// The sample aspect ratio the container gives the stream, then the one the codec parameters give.
    var streamSampleAspectRatio: Rational { Rational(raw.pointee.sample_aspect_ratio) }
    var codecSampleAspectRatio: Rational { Rational(parameters.sample_aspect_ratio) }
    var fieldOrder: AVFieldOrder { parameters.field_order }
    var colour: ColourTags {
        ColourTags(primaries: parameters.color_primaries, transfer: parameters.color_trc, matrix: parameters.color_space,
                   range: parameters.color_range)
    }

    var timeBase: Rational { Rational(raw.pointee.time_base) }
    /// The stream's declared duration in ``timeBase`` units (0 or less, or `AV_NOPTS_VALUE`, when none).
    var duration: Int64 { raw.pointee.duration }
    var averageFrameRate: Rational { Rational(raw.pointee.avg_frame_rate) }
    /// The lowest rate all timestamps can be represented in exactly (`r_frame_rate`).
    var realFrameRate: Rational { Rational(raw.pointee.r_frame_rate) }

    /// The Dolby Vision configuration record (`dvcC`/`dvvC`): its profile and the base layer's signal
    /// compatibility id; nil for a stream without one.
    var dolbyVision: (profile: Int, compatibility: Int)? {
        var size = 0
        guard let data = av_stream_get_side_data(raw, AV_PKT_DATA_DOVI_CONF, &size),
              size >= MemoryLayout<AVDOVIDecoderConfigurationRecord>.size else { return nil }
        return data.withMemoryRebound(to: AVDOVIDecoderConfigurationRecord.self, capacity: 1) {
            (Int($0.pointee.dv_profile), Int($0.pointee.dv_bl_signal_compatibility_id))
        }
    }

    /// The counter-clockwise rotation the display matrix side data gives, in degrees; nil without one.
    var displayMatrixRotation: Double? {
        var size: Int = 0
        guard let data = av_stream_get_side_data(raw, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return nil }
        return data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
    }

    /// The stream's metadata tag `key`, if present.
    func tag(_ key: String) -> String? {
        av_dict_get(raw.pointee.metadata, key, nil, 0).map { String(cString: $0.pointee.value) }
    }

    var sampleRate: Int { Int(parameters.sample_rate) }
    var channels: Int { Int(parameters.ch_layout.nb_channels) }
    /// The channel layout as libavutil describes it (`stereo`, `5.1(side)`); channels without an order get the
    /// default layout of their count.
    var channelLayoutName: String {
        var buffer = [CChar](repeating: 0, count: 128)
        var layout = parameters.ch_layout
        if layout.order == AV_CHANNEL_ORDER_UNSPEC { av_channel_layout_default(&layout, parameters.ch_layout.nb_channels) }
        av_channel_layout_describe(&layout, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    /// The declared bit rate (0 or less when unknown).
    var bitRate: Int64 { parameters.bit_rate }

    /// Makes the demuxer drop this stream's packets.
    func discard() { raw.pointee.discard = AVDISCARD_ALL }
}
