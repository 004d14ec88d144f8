import CAV
import Foundation

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

    /// A new packet referencing this one's data (one copy per muxer).
    func reference() throws(MediaError) -> Packet {
        let copy = try Packet()
        try MediaError.check(av_packet_ref(copy.raw, raw), stage: "mux", "av_packet_ref")
        return copy
    }

    /// The index of the stream the packet was read from.
    var streamIndex: Int { Int(raw.pointee.stream_index) }

    /// The packet's presentation time, else its decoding time; nil when it has neither.
    var timestamp: Int64? {
        let t = raw.pointee.pts != AVStatus.noPTS ? raw.pointee.pts : raw.pointee.dts
        return t != AVStatus.noPTS ? t : nil
    }

    /// The packet's duration in its stream's time base (0 when unknown).
    var duration: Int64 { raw.pointee.duration }

    /// Appends the packet's payload to `bytes`.
    func append(to bytes: inout Data) { bytes.append(raw.pointee.data, count: Int(raw.pointee.size)) }
}
