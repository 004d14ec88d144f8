import CAV

/// An owned demuxer (`AVFormatContext` opened for reading) over a ``SourceFile``'s descriptor, closed in `deinit`.
///
/// libav reads only through ``DescriptorIO``: the format is sniffed first and anything but a plain media container
/// (``FormatPolicy``) is refused before a demuxer sees it; `format_whitelist` and `protocol_whitelist` say the
/// same to libav, and `io_open` refuses every nested open (a demuxer that names another file or URL).
final class InputFile {
    let raw: UnsafeMutablePointer<AVFormatContext>
    private let io: DescriptorIO
    /// Keeps the interrupt callback's target alive as long as the context.
    private let interrupter: Interrupter

    /// Opens `source` and reads stream information.
    /// - Throws: ``MediaError``: stage `refuse` (message: what the file is, e.g. `hls playlist`) for a file that is
    ///   not a media container, stage `limit` past `max_streams`, else the failing libav call.
    init(source: SourceFile, limits: Limits, interrupter: Interrupter) throws(MediaError) {
        io = try DescriptorIO(source: source, interrupter: interrupter)
        self.interrupter = interrupter
        var format: UnsafePointer<AVInputFormat>? = nil
        let score = av_probe_input_buffer2(io.context, &format, source.name, nil, 0, 0)
        if score < 0 { throw MediaError(stage: "demux", call: "avformat_open_input", code: score) }
        guard let format else {
            throw MediaError(stage: "demux", call: "avformat_open_input", code: AVStatus.invalidData)
        }
        let formatName = String(cString: format.pointee.name)
        guard FormatPolicy.allows(formatName) else {
            throw MediaError(stage: "refuse", call: "av_probe_input_buffer2", code: CAV_AVERROR(EPERM),
                             message: FormatPolicy.describe(formatName))
        }
        guard let ctx = avformat_alloc_context() else {
            throw MediaError(stage: "demux", call: "avformat_alloc_context", code: CAV_AVERROR(ENOMEM))
        }
        ctx.pointee.pb = io.context
        ctx.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        ctx.pointee.interrupt_callback = interrupter.interruptCallback
        ctx.pointee.io_open = { _, _, _, _, _ in CAV_AVERROR(EPERM) }  // no demuxer opens anything else
        // libav's own cap stays above ours (a demuxer past it fails with ENOMEM): the count is checked below.
        ctx.pointee.max_streams = Int32(clamping: max(1_000, limits.maxStreams + 1))
        var options: OpaquePointer? = nil
        av_dict_set(&options, "format_whitelist", FormatPolicy.whitelist, 0)
        av_dict_set(&options, "protocol_whitelist", "none", 0)
        defer { av_dict_free(&options) }
        var maybe: UnsafeMutablePointer<AVFormatContext>? = ctx
        let ret = avformat_open_input(&maybe, source.name, format, &options)  // frees ctx on failure
        guard ret >= 0, let opened = maybe else {
            throw MediaError(stage: "demux", call: "avformat_open_input", code: ret)
        }
        raw = opened
        try checkStreamCount(limits)
        var perStream = [OpaquePointer?](repeating: nil, count: streamCount)
        for i in perStream.indices { av_dict_set(&perStream[i], "max_pixels", String(limits.maxPixels), 0) }
        defer { for i in perStream.indices { av_dict_free(&perStream[i]) } }
        let info = perStream.withUnsafeMutableBufferPointer { avformat_find_stream_info(opened, $0.baseAddress) }
        if info < 0 { throw MediaError(stage: "demux", call: "avformat_find_stream_info", code: info) }
        try checkStreamCount(limits)
    }

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = raw
        avformat_close_input(&p)  // leaves the custom AVIOContext to `io`
    }

    private func checkStreamCount(_ limits: Limits) throws(MediaError) {
        if streamCount > limits.maxStreams {
            throw MediaError(stage: "limit", call: "avformat_open_input", code: CAV_AVERROR(E2BIG),
                             message: "\(streamCount) streams (max_streams is \(limits.maxStreams))")
        }
    }

    var streamCount: Int { Int(raw.pointee.nb_streams) }

    func stream(_ index: Int) -> MediaStream { MediaStream(raw: raw.pointee.streams[index]!, input: self) }

    /// The time base of stream `index`'s timestamps.
    func timeBase(of index: Int) -> Rational { stream(index).timeBase }

    /// The stream's own declared duration in seconds; 0 when it declares none (Matroska declares only the total).
    func declaredSeconds(of index: Int) -> Double {
        let st = stream(index)
        return st.duration > 0 && st.duration != AVStatus.noPTS ? Double(st.duration) * st.timeBase.value : 0
    }

    /// True when stream `index` exists and is of `type` with codec `codec` (and, when given, `width`x`height`).
    func streamMatches(_ index: Int, type: MediaType, codec: String, width: Int? = nil, height: Int? = nil) -> Bool {
        guard index >= 0, index < streamCount, raw.pointee.streams[index]!.pointee.codecpar != nil else { return false }
        let st = stream(index)
        guard st.type == type, st.codecName == codec else { return false }
        if let width, st.width != width { return false }
        if let height, st.height != height { return false }
        return true
    }

    /// Makes the demuxer drop the packets of every stream but `kept`.
    func discardAll(except kept: Set<Int>) {
        for i in 0..<streamCount where !kept.contains(i) { stream(i).discard() }
    }

    /// The time base of the container's own times (``startTime``, ``duration``): microseconds (`AV_TIME_BASE`).
    static let containerTimeBase = Rational(1, Int32(AV_TIME_BASE))

    /// The container's start time (``containerTimeBase`` units), 0 when it has none.
    var startTime: Int64 { raw.pointee.start_time == AVStatus.noPTS ? 0 : raw.pointee.start_time }

    /// The container's duration in seconds (declared, or estimated by libavformat); 0 when unknown.
    var durationSeconds: Double { raw.pointee.duration > 0 ? Double(raw.pointee.duration) / Double(AV_TIME_BASE) : 0 }

    /// The container's overall bit rate (0 or less when unknown).
    var bitRate: Int64 { raw.pointee.bit_rate }

    /// The demuxer's name (`mov,mp4,m4a,3gp,3g2,mj2`).
    var formatName: String { String(cString: raw.pointee.iformat.pointee.name) }

    /// True when libavformat estimated the duration from timestamps (which a jump inflates), not from a header.
    var durationFromTimestamps: Bool { raw.pointee.duration_estimation_method == AVFMT_DURATION_FROM_PTS }

    /// The best stream of `type` (as ffmpeg picks it), or nil.
    func bestStream(_ type: MediaType) -> Int? {
        let i = av_find_best_stream(raw, type.av, -1, -1, nil, 0)
        return i >= 0 ? Int(i) : nil
    }

    /// Reads the next packet into `packet`; false at end of file.
    /// - Throws: read errors other than EOF (including `AVERROR_EXIT` when interrupted).
    func read(into packet: Packet) throws(MediaError) -> Bool {
        let ret = av_read_frame(raw, packet.raw)
        if ret == AVStatus.eof { return false }
        if ret < 0 { throw MediaError(stage: "demux", call: "av_read_frame", code: ret) }
        return true
    }
}
