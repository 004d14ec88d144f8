import CAV

/// An owned muxer (`AVFormatContext` for output), freed in `deinit`. Used with libavformat's `hls` muxer,
/// which writes the segments (`AVFMT_NOFILE`: it opens its own files).
final class OutputMuxer {
    let raw: UnsafeMutablePointer<AVFormatContext>
    private let interrupter: Interrupter?
    private let meter: OutputMeter?
    private var encoderTimeBases: [AVRational] = []
    private(set) var headerWritten = false
    private var trailerWritten = false

    /// Allocates a muxer of `format` writing to `path`; `meter` counts the bytes of the files it writes.
    init(format: String, path: String, interrupter: Interrupter?, meter: OutputMeter? = nil) throws(MediaError) {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let ret = avformat_alloc_output_context2(&ctx, nil, format, path)
        guard ret >= 0, let ctx else { throw MediaError(stage: "mux", call: "avformat_alloc_output_context2(\(format))", code: ret) }
        raw = ctx
        self.interrupter = interrupter
        self.meter = meter
        if let interrupter { ctx.pointee.interrupt_callback = interrupter.interruptCallback }
        meter?.attach(to: ctx)
    }

    deinit {
        // A muxer whose header was written must get its trailer, even when the job failed: libavformat 5.1's hls
        // muxer frees the segment it is buffering (an `avio_open_dyn_buf`) only there, not in avformat_free_context,
        // so every failed job leaked it (found by the fuzzer, LeakSanitizer). What it writes goes to the work
        // directory, which a failed job removes.
        if headerWritten && !trailerWritten { av_write_trailer(raw) }
        if raw.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0, raw.pointee.pb != nil { avio_closep(&raw.pointee.pb) }
        avformat_free_context(raw)
    }

    /// True when encoders feeding this muxer must put parameter sets in extradata.
    var wantsGlobalHeader: Bool { raw.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

    /// Adds a stream carrying `encoder`'s output; returns its index.
    @discardableResult
    func addStream(from encoder: CodecContext) throws(MediaError) -> Int {
        guard let st = avformat_new_stream(raw, nil) else {
            throw MediaError(stage: "mux", call: "avformat_new_stream", code: CAV_AVERROR(ENOMEM))
        }
        try MediaError.check(avcodec_parameters_from_context(st.pointee.codecpar, encoder.raw), stage: "mux",
                             "avcodec_parameters_from_context")
        st.pointee.time_base = encoder.raw.pointee.time_base
        if encoder.raw.pointee.codec_id == AV_CODEC_ID_HEVC {
            // HLS wants HEVC as `hvc1` (parameter sets in the sample entry), not the `hev1` mp4 writes by default.
            st.pointee.codecpar.pointee.codec_tag = Self.hvc1
        }
        if encoder.raw.pointee.codec_type == AVMEDIA_TYPE_VIDEO {
            st.pointee.avg_frame_rate = encoder.raw.pointee.framerate
            st.pointee.r_frame_rate = encoder.raw.pointee.framerate
            st.pointee.sample_aspect_ratio = encoder.raw.pointee.sample_aspect_ratio
        }
        encoderTimeBases.append(encoder.raw.pointee.time_base)
        return Int(st.pointee.index)
    }

    /// MKTAG('h', 'v', 'c', '1').
    static let hvc1 = UInt32(UInt8(ascii: "h")) | UInt32(UInt8(ascii: "v")) << 8 | UInt32(UInt8(ascii: "c")) << 16
        | UInt32(UInt8(ascii: "1")) << 24

    /// `avformat_write_header` with muxer options.
    func writeHeader(options: [(String, String)]) throws(MediaError) {
        var dict: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&dict, k, v, 0) }
        defer { av_dict_free(&dict) }
        try MediaError.check(avformat_write_header(raw, &dict), stage: "mux", "avformat_write_header")
        headerWritten = true
    }

    /// Writes `packet` (timestamps in the encoder's time base) to stream `index`; the packet is consumed.
    func write(_ packet: Packet, stream index: Int) throws(MediaError) {
        packet.raw.pointee.stream_index = Int32(index)
        av_packet_rescale_ts(packet.raw, encoderTimeBases[index], raw.pointee.streams[index]!.pointee.time_base)
        try MediaError.check(av_interleaved_write_frame(raw, packet.raw), stage: "mux", "av_interleaved_write_frame")
    }

    /// Flushes interleaving queues and finishes the last segment.
    func writeTrailer() throws(MediaError) {
        trailerWritten = true  // once, whatever it returns: libavformat frees the muxer's state either way
        try MediaError.check(av_write_trailer(raw), stage: "mux", "av_write_trailer")
    }
}
