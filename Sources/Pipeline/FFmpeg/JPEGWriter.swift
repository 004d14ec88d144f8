import CAV
import Foundation

/// Writes one decoded frame as a JPEG at a given size (thumbnails and the poster).
enum JPEGWriter {
    /// Scales `frame` to `width`x`height` (full-range yuvj420p) and writes a JPEG to `path`.
    /// - Throws: ``MediaError`` from swscale, the mjpeg encoder, or the file write.
    static func write(_ frame: Frame, width: Int, height: Int, to path: String) throws(MediaError) {
        try encode(try scaled(frame, width: width, height: height), to: path)
    }

    /// `frame` scaled to `width`x`height` in full-range yuvj420p (what ``encode(_:to:)`` takes).
    /// - Throws: ``MediaError`` from swscale.
    static func scaled(_ frame: Frame, width: Int, height: Int) throws(MediaError) -> Frame {
        guard let sws = sws_getContext(Int32(frame.width), Int32(frame.height), frame.pixelFormat,
                                       Int32(width), Int32(height), AV_PIX_FMT_YUVJ420P, Int32(SWS_BICUBIC), nil, nil, nil)
        else { throw MediaError(stage: "thumbnail", call: "sws_getContext", code: CAV_AVERROR(EINVAL)) }
        defer { sws_freeContext(sws) }
        let out = try Frame.picture(width: width, height: height, format: AV_PIX_FMT_YUVJ420P, stage: "thumbnail")
        try MediaError.check(sws_scale_frame(sws, out.raw, frame.raw), stage: "thumbnail", "sws_scale_frame")
        return out
    }

    /// Writes `out`, a full-range yuvj420p picture, as a JPEG to `path`.
    /// - Throws: ``MediaError`` from the mjpeg encoder or the file write.
    static func encode(_ out: Frame, to path: String) throws(MediaError) {
        let width = out.width, height = out.height
        let enc = try encoder(width: width, height: height)
        out.quality = quality
        out.pts = 0
        try enc.send(out)
        try enc.send(nil as Frame?)
        let packet = try Packet()
        var bytes = Data()
        while try enc.receive(packet) == .item {
            packet.append(to: &bytes)
            packet.unref()
        }
        do {
            try bytes.write(to: URL(fileURLWithPath: path))
        } catch {
            throw MediaError(stage: "thumbnail", call: "write(\(path))", code: CAV_AVERROR(EIO), message: "\(error)")
        }
    }

    /// q=3 in lambda units (`FF_QP2LAMBDA` is 118).
    private static let quality: Int32 = 3 * 118

    /// An opened mjpeg encoder for one full-range yuvj420p picture at fixed quality ``quality``.
    private static func encoder(width: Int, height: Int) throws(MediaError) -> CodecContext {
        let ctx = try CodecContext.encoder(for: .mjpeg, stage: "thumbnail")
        let c = ctx.raw
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        c.pointee.time_base = AVRational(num: 1, den: 25)
        c.pointee.flags |= 2  // AV_CODEC_FLAG_QSCALE
        c.pointee.global_quality = quality
        try ctx.open()
        return ctx
    }
}
