import CAV

/// Counts the bytes a job's muxers write to disk: it wraps each muxer's `io_open`/`io_close2` (the `hls` muxer and
/// the segment muxers it makes open every file through them), so media segments and init segments are counted as
/// libav writes them. Playlists, rewritten whole at each segment, are not: the engine writes the final ones itself.
///
/// Not `Sendable`: touched only on the job's thread.
final class OutputMeter {
    private var closed: Int64 = 0
    private var open: [UnsafeMutablePointer<AVIOContext>] = []
    private var extra: Int64 = 0
    private typealias OpenFunction = @convention(c) (UnsafeMutablePointer<AVFormatContext>?,
                                                    UnsafeMutablePointer<UnsafeMutablePointer<AVIOContext>?>?,
                                                    UnsafePointer<CChar>?, Int32,
                                                    UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    private typealias CloseFunction = @convention(c) (UnsafeMutablePointer<AVFormatContext>?,
                                                     UnsafeMutablePointer<AVIOContext>?) -> Int32
    private var defaultOpen: OpenFunction?
    private var defaultClose: CloseFunction?

    /// Bytes written so far (including what sits in the open files' buffers).
    var bytes: Int64 {
        open.reduce(closed + extra) { $0 + Self.written($1) }
    }

    /// Counts a file the engine wrote itself (a thumbnail).
    func add(_ bytes: Int64) { extra += bytes }

    /// Routes `ctx`'s file opens through this meter. `ctx.opaque` must stay as set here.
    func attach(to ctx: UnsafeMutablePointer<AVFormatContext>) {
        defaultOpen = defaultOpen ?? ctx.pointee.io_open
        defaultClose = defaultClose ?? ctx.pointee.io_close2
        ctx.pointee.opaque = Unmanaged.passUnretained(self).toOpaque()
        ctx.pointee.io_open = { s, pb, url, flags, options in
            guard let meter = OutputMeter.of(s), let open = meter.defaultOpen else { return CAV_AVERROR(EINVAL) }
            let ret = open(s, pb, url, flags, options)
            let name = url.map { String(cString: $0) } ?? ""
            if ret >= 0, flags & AVIO_FLAG_WRITE != 0, !name.hasSuffix(".m3u8"), !name.hasSuffix(".tmp"), let context = pb?.pointee {
                meter.open.append(context)
            }
            return ret
        }
        ctx.pointee.io_close2 = { s, pb in
            guard let meter = OutputMeter.of(s), let close = meter.defaultClose else { return CAV_AVERROR(EINVAL) }
            if let pb, let i = meter.open.firstIndex(of: pb) {
                meter.closed += OutputMeter.written(pb)
                meter.open.remove(at: i)
            }
            return close(s, pb)
        }
    }

    private static func of(_ s: UnsafeMutablePointer<AVFormatContext>?) -> OutputMeter? {
        s?.pointee.opaque.map { Unmanaged<OutputMeter>.fromOpaque($0).takeUnretainedValue() }
    }

    private static func written(_ pb: UnsafeMutablePointer<AVIOContext>) -> Int64 {
        pb.pointee.bytes_written + Int64(pb.pointee.buf_ptr - pb.pointee.buffer)
    }
}
