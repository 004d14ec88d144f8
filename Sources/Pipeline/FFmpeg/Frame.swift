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
}

/// An owned `AVPacket`, freed in `deinit`.
final class Packet {
    let raw: UnsafeMutablePointer<AVPacket>

    init() throws(MediaError) {
        guard let p = av_packet_alloc() else {
            throw MediaError(stage: "alloc", call: "av_packet_alloc", code: CAV_AVERROR(ENOMEM))
        }
        raw = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = raw
        av_packet_free(&p)
    }

    /// Drops the packet's buffers so it can be reused.
    func unref() { av_packet_unref(raw) }
}
