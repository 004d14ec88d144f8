import CAV

/// An owned `AVCodecContext` (decoder or encoder), freed in `deinit`.
final class CodecContext {
    let raw: UnsafeMutablePointer<AVCodecContext>
    let codec: UnsafePointer<AVCodec>
    let stage: String

    /// Allocates a context for `codec`; configure `raw`, then call ``open(options:)``.
    init(codec: UnsafePointer<AVCodec>, stage: String) throws(MediaError) {
        guard let c = avcodec_alloc_context3(codec) else {
            throw MediaError(stage: stage, call: "avcodec_alloc_context3", code: CAV_AVERROR(ENOMEM))
        }
        raw = c
        self.codec = codec
        self.stage = stage
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecContext>? = raw
        avcodec_free_context(&p)
    }

    /// A decoder for `stream`, opened, with frame+slice threading; frames over `maxPixels` pixels are refused
    /// (libav's `max_pixels`).
    static func decoder(for stream: MediaStream, maxPixels: Int) throws(MediaError) -> CodecContext {
        let par = stream.raw.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            throw MediaError(stage: "decode", call: "avcodec_find_decoder", code: CAV_AVERROR(ENOSYS),
                             message: "no decoder for codec \(name)")
        }
        let ctx = try CodecContext(codec: codec, stage: "decode")
        try MediaError.check(avcodec_parameters_to_context(ctx.raw, par), stage: "decode", "avcodec_parameters_to_context")
        ctx.raw.pointee.pkt_timebase = stream.timeBase.av
        ctx.raw.pointee.thread_count = 0
        ctx.raw.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        ctx.raw.pointee.max_pixels = Int64(maxPixels)
        try ctx.open()
        return ctx
    }

    /// The encoder libavcodec has under `name` (`libx264`, `h264_vaapi`), its context allocated: configure it, then
    /// ``open(options:)``.
    /// - Throws: ``MediaError`` (`ENOSYS`, `encoder <name> is not in this libavcodec`) when there is none.
    static func encoder(named name: String, stage: String) throws(MediaError) -> CodecContext {
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw MediaError(stage: stage, call: "avcodec_find_encoder_by_name(\(name))", code: CAV_AVERROR(ENOSYS),
                             message: "encoder \(name) is not in this libavcodec")
        }
        return try CodecContext(codec: codec, stage: stage)
    }

    /// The codecs whose default encoder the engine opens.
    enum Codec {
        /// FFmpeg's own AAC.
        case aac
        case mjpeg

        var id: AVCodecID { self == .aac ? AV_CODEC_ID_AAC : AV_CODEC_ID_MJPEG }
    }

    /// libavcodec's default encoder of `codec`, its context allocated.
    /// - Throws: ``MediaError`` (`ENOSYS`) when there is none.
    static func encoder(for codec: Codec, stage: String) throws(MediaError) -> CodecContext {
        let id = codec.id
        guard let codec = avcodec_find_encoder(id) else {
            throw MediaError(stage: stage, call: "avcodec_find_encoder(\(String(cString: avcodec_get_name(id))))",
                             code: CAV_AVERROR(ENOSYS))
        }
        return try CodecContext(codec: codec, stage: stage)
    }

    /// Sets what a video encoder needs before ``open(options:)``: the picture size, the frame rate (and its inverse
    /// as the time base), square pixels, the average and peak bit rates and VBV buffer (bits), the GOP (frames),
    /// as many threads as libavcodec picks, and parameter sets in extradata when `globalHeader`.
    func configureVideo(width: Int, height: Int, frameRate: Rational, bitrate: Int, maxrate: Int, bufsize: Int, gop: Int,
                        globalHeader: Bool) {
        raw.pointee.width = Int32(width)
        raw.pointee.height = Int32(height)
        raw.pointee.time_base = frameRate.inverse.av
        raw.pointee.framerate = frameRate.av
        raw.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        raw.pointee.bit_rate = Int64(bitrate)
        raw.pointee.rc_max_rate = Int64(maxrate)
        raw.pointee.rc_buffer_size = Int32(clamping: bufsize)
        raw.pointee.gop_size = Int32(gop)
        raw.pointee.thread_count = 0
        if globalHeader { raw.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
    }

    /// Sets what an audio encoder needs before ``open(options:)``: planar float samples at `sampleRate` (the time
    /// base is one sample), the default layout of `channels` channels, the bit rate, and extradata when `globalHeader`.
    func configureAudio(sampleRate: Int32, channels: Int32, bitrate: Int, globalHeader: Bool) {
        raw.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        raw.pointee.sample_rate = sampleRate
        av_channel_layout_default(&raw.pointee.ch_layout, channels)
        raw.pointee.bit_rate = Int64(bitrate)
        raw.pointee.time_base = AVRational(num: 1, den: sampleRate)
        if globalHeader { raw.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
    }

    /// The pixel format an encoder takes.
    var pixelFormat: PixelFormat {
        get { PixelFormat(av: raw.pointee.pix_fmt) }
        set { raw.pointee.pix_fmt = newValue.av }
    }

    /// Makes an encoder take surfaces of `frames` (VA-API): their format, and a reference to the pool.
    func takeSurfaces(of frames: HardwareFrames) {
        raw.pointee.pix_fmt = frames.format
        raw.pointee.hw_frames_ctx = frames.reference()
    }

    /// Sets the colour tags an encoder writes into its stream (the H.264 and HEVC VUI).
    func tag(_ colour: ColourTags) {
        raw.pointee.color_primaries = colour.primaries
        raw.pointee.color_trc = colour.transfer
        raw.pointee.colorspace = colour.matrix
        raw.pointee.color_range = colour.range
    }

    /// An opened encoder's extradata (its parameter sets: Annex B, or an `avcC`/`hvcC` header); empty when none.
    var extradata: [UInt8] {
        guard let data = raw.pointee.extradata, raw.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(raw.pointee.extradata_size)))
    }

    /// The profile and level the encoder reports (0 or less when unset).
    var profile: Int { Int(raw.pointee.profile) }
    var level: Int { Int(raw.pointee.level) }
    var width: Int { Int(raw.pointee.width) }
    var height: Int { Int(raw.pointee.height) }
    var frameRate: Rational { Rational(raw.pointee.framerate) }

    /// `avcodec_open2` with `options` (`key=value` pairs set on the context and the codec's private options).
    func open(options: [(String, String)] = []) throws(MediaError) {
        var dict: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&dict, k, v, 0) }
        defer { av_dict_free(&dict) }
        try MediaError.check(avcodec_open2(raw, codec, &dict), stage: stage, "avcodec_open2(\(name))")
    }

    var name: String { String(cString: codec.pointee.name) }

    /// The time base of the frames and packets the codec takes and gives.
    var timeBase: Rational { Rational(raw.pointee.time_base) }

    /// Samples per frame an audio encoder takes (0: any).
    var frameSize: Int32 { raw.pointee.frame_size }

    // MARK: decoding

    /// `avcodec_send_packet`; nil flushes. Returns the raw status (EAGAIN and errors are the caller's call).
    func send(_ packet: Packet?) -> Int32 { avcodec_send_packet(raw, packet?.raw) }

    /// `avcodec_receive_frame` as control flow.
    func receive(_ frame: Frame) throws(MediaError) -> Received {
        let ret = avcodec_receive_frame(raw, frame.raw)
        if ret == AVStatus.eagain { return .again }
        if ret == AVStatus.eof { return .endOfStream }
        try MediaError.check(ret, stage: stage, "avcodec_receive_frame")
        return .item
    }

    // MARK: encoding

    /// `avcodec_send_frame`; nil flushes.
    func send(_ frame: Frame?) throws(MediaError) {
        let ret = avcodec_send_frame(raw, frame?.raw)
        if ret == AVStatus.eof { return }
        try MediaError.check(ret, stage: stage, "avcodec_send_frame(\(name))")
    }

    /// `avcodec_receive_packet` as control flow.
    func receive(_ packet: Packet) throws(MediaError) -> Received {
        let ret = avcodec_receive_packet(raw, packet.raw)
        if ret == AVStatus.eagain { return .again }
        if ret == AVStatus.eof { return .endOfStream }
        try MediaError.check(ret, stage: stage, "avcodec_receive_packet(\(name))")
        return .item
    }
}
