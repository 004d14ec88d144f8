import CAV

/// An owned `AVIOContext` (and its buffer) that reads a ``SourceFile`` through a ``DescriptorReader``: libav
/// never opens anything itself. Freed in `deinit`.
///
/// Every read gives up with `AVERROR_EXIT` once `interrupter` says stop (cancelled, past a deadline, stalled),
/// even when the read itself is blocked.
final class DescriptorIO {
    let context: UnsafeMutablePointer<AVIOContext>
    private let reader: DescriptorReader

    static let bufferSize = 128 << 10

    /// - Throws: ``MediaError`` (`ENOMEM`) when the context or its buffer cannot be allocated.
    init(source: SourceFile, interrupter: Interrupter) throws(MediaError) {
        reader = DescriptorReader(source: source, capacity: Self.bufferSize) { interrupter.shouldStop }
        guard let buffer = av_malloc(Self.bufferSize) else {
            throw MediaError(stage: "demux", call: "av_malloc", code: CAV_AVERROR(ENOMEM))
        }
        let opaque = Unmanaged.passUnretained(reader).toOpaque()
        guard let ctx = avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(Self.bufferSize), 0, opaque,
                                           { opaque, buf, size in DescriptorIO.read(opaque, buf, size) }, nil,
                                           { opaque, offset, whence in DescriptorIO.seek(opaque, offset, whence) }) else {
            av_free(buffer)
            throw MediaError(stage: "demux", call: "avio_alloc_context", code: CAV_AVERROR(ENOMEM))
        }
        ctx.pointee.seekable = source.isSeekable ? AVIO_SEEKABLE_NORMAL : 0
        context = ctx
    }

    deinit {
        av_freep(&context.pointee.buffer)  // avio_context_free leaves the buffer to its owner
        var p: UnsafeMutablePointer<AVIOContext>? = context
        avio_context_free(&p)
    }

    private static func read(_ opaque: UnsafeMutableRawPointer?, _ buf: UnsafeMutablePointer<UInt8>?, _ size: Int32) -> Int32 {
        guard let opaque, let buf, size > 0 else { return CAV_AVERROR(EINVAL) }
        let reader = Unmanaged<DescriptorReader>.fromOpaque(opaque).takeUnretainedValue()
        switch reader.read(into: buf, count: Int(size)) {
        case .bytes(let n): return Int32(n)
        case .end: return AVStatus.eof
        case .failed(let code): return CAV_AVERROR(code)
        case .stopped: return AVStatus.exit
        }
    }

    private static func seek(_ opaque: UnsafeMutableRawPointer?, _ offset: Int64, _ whence: Int32) -> Int64 {
        guard let opaque else { return Int64(CAV_AVERROR(EINVAL)) }
        let reader = Unmanaged<DescriptorReader>.fromOpaque(opaque).takeUnretainedValue()
        if whence & AVSEEK_SIZE != 0 { return reader.size ?? Int64(CAV_AVERROR(ENOSYS)) }
        let target: Int64
        switch whence & ~AVSEEK_FORCE {
        case SEEK_SET: target = offset
        case SEEK_CUR: target = reader.position + offset
        case SEEK_END:
            guard let size = reader.size else { return Int64(CAV_AVERROR(ESPIPE)) }
            target = size + offset
        default: return Int64(CAV_AVERROR(EINVAL))
        }
        return reader.seek(to: target) ? target : Int64(CAV_AVERROR(reader.source.isSeekable ? EINVAL : ESPIPE))
    }
}
