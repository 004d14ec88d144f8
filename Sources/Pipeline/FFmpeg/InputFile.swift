import CAV

/// An owned demuxer (`AVFormatContext` opened for reading), closed in `deinit`.
final class InputFile {
    let raw: UnsafeMutablePointer<AVFormatContext>
    /// Keeps the interrupt callback's target alive as long as the context.
    private let cancellation: CancellationFlag?

    /// Opens `path` and reads stream information.
    /// - Throws: ``MediaError`` from `avformat_open_input` / `avformat_find_stream_info`.
    init(path: String, cancellation: CancellationFlag? = nil) throws(MediaError) {
        guard var ctx = avformat_alloc_context() else {
            throw MediaError(stage: "demux", call: "avformat_alloc_context", code: CAV_AVERROR(ENOMEM))
        }
        if let cancellation { ctx.pointee.interrupt_callback = cancellation.interruptCallback }
        var maybe: UnsafeMutablePointer<AVFormatContext>? = ctx
        let ret = avformat_open_input(&maybe, path, nil, nil)  // frees ctx on failure
        guard ret >= 0, let opened = maybe else {
            throw MediaError(stage: "demux", call: "avformat_open_input", code: ret)
        }
        ctx = opened
        raw = ctx
        self.cancellation = cancellation
        let info = avformat_find_stream_info(ctx, nil)
        if info < 0 { throw MediaError(stage: "demux", call: "avformat_find_stream_info", code: info) }
    }

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = raw
        avformat_close_input(&p)
    }

    var streamCount: Int { Int(raw.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> { raw.pointee.streams[index]! }

    /// The best stream of `type` (as ffmpeg picks it), or nil.
    func bestStream(_ type: AVMediaType) -> Int? {
        let i = av_find_best_stream(raw, type, -1, -1, nil, 0)
        return i >= 0 ? Int(i) : nil
    }

    /// Reads the next packet into `packet`; false at end of file.
    /// - Throws: read errors other than EOF (including `AVERROR_EXIT` when cancelled).
    func read(into packet: Packet) throws(MediaError) -> Bool {
        let ret = av_read_frame(raw, packet.raw)
        if ret == AVStatus.eof { return false }
        if ret < 0 { throw MediaError(stage: "demux", call: "av_read_frame", code: ret) }
        return true
    }
}
