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
    static func decoder(for stream: UnsafeMutablePointer<AVStream>, maxPixels: Int) throws(MediaError) -> CodecContext {
        let par = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            throw MediaError(stage: "decode", call: "avcodec_find_decoder", code: CAV_AVERROR(ENOSYS),
                             message: "no decoder for codec \(name)")
        }
        let ctx = try CodecContext(codec: codec, stage: "decode")
        try MediaError.check(avcodec_parameters_to_context(ctx.raw, par), stage: "decode", "avcodec_parameters_to_context")
        ctx.raw.pointee.pkt_timebase = stream.pointee.time_base
        ctx.raw.pointee.thread_count = 0
        ctx.raw.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        ctx.raw.pointee.max_pixels = Int64(maxPixels)
        try ctx.open()
        return ctx
    }

    /// `avcodec_open2` with `options` (`key=value` pairs set on the context and the codec's private options).
    func open(options: [(String, String)] = []) throws(MediaError) {
        var dict: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&dict, k, v, 0) }
        defer { av_dict_free(&dict) }
        try MediaError.check(avcodec_open2(raw, codec, &dict), stage: stage, "avcodec_open2(\(name))")
    }

    var name: String { String(cString: codec.pointee.name) }

    /// The time base of the frames and packets the codec takes and gives.
    var timeBase: AVRational { raw.pointee.time_base }

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
