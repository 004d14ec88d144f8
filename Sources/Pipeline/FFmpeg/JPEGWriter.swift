import CAV
import Foundation

/// Writes one decoded frame as a JPEG at a given size (thumbnails and the poster).
enum JPEGWriter {
    /// Scales `frame` to `width`x`height` (full-range yuvj420p) and writes a JPEG to `path`.
    /// - Throws: ``MediaError`` from swscale, the mjpeg encoder, or the file write.
    static func write(_ frame: Frame, width: Int, height: Int, to path: String) throws(MediaError) {
        let src = frame.raw.pointee
        guard let sws = sws_getContext(src.width, src.height, AVPixelFormat(rawValue: src.format),
                                       Int32(width), Int32(height), AV_PIX_FMT_YUVJ420P, Int32(SWS_BICUBIC), nil, nil, nil)
        else { throw MediaError(stage: "thumbnail", call: "sws_getContext", code: CAV_AVERROR(EINVAL)) }
        defer { sws_freeContext(sws) }
        let out = try Frame()
        out.raw.pointee.width = Int32(width)
        out.raw.pointee.height = Int32(height)
        out.raw.pointee.format = AV_PIX_FMT_YUVJ420P.rawValue
        try MediaError.check(av_frame_get_buffer(out.raw, 0), stage: "thumbnail", "av_frame_get_buffer")
        let scaled = withUnsafePointer(to: src.data) { srcData in
            srcData.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { srcPlanes in
                withUnsafePointer(to: src.linesize) { srcStrides in
                    srcStrides.withMemoryRebound(to: Int32.self, capacity: 8) { srcLines in
                        withUnsafeMutablePointer(to: &out.raw.pointee.data) { dstData in
                            dstData.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dstPlanes in
                                withUnsafeMutablePointer(to: &out.raw.pointee.linesize) { dstStrides in
                                    dstStrides.withMemoryRebound(to: Int32.self, capacity: 8) { dstLines in
                                        sws_scale(sws, srcPlanes, srcLines, 0, src.height, dstPlanes, dstLines)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        try MediaError.check(scaled, stage: "thumbnail", "sws_scale")

        guard let codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG) else {
            throw MediaError(stage: "thumbnail", call: "avcodec_find_encoder(mjpeg)", code: CAV_AVERROR(ENOSYS))
        }
        let enc = try CodecContext(codec: codec, stage: "thumbnail")
        enc.raw.pointee.width = Int32(width)
        enc.raw.pointee.height = Int32(height)
        enc.raw.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        enc.raw.pointee.time_base = AVRational(num: 1, den: 25)
        enc.raw.pointee.flags |= 2  // AV_CODEC_FLAG_QSCALE
        enc.raw.pointee.global_quality = 3 * 118  // q=3 in lambda units (FF_QP2LAMBDA)
        try enc.open()
        out.raw.pointee.quality = 3 * 118
        out.raw.pointee.pts = 0
        try enc.send(out)
        try enc.send(nil as Frame?)
        let packet = try Packet()
        var bytes = Data()
        while try enc.receive(packet) == .item {
            bytes.append(packet.raw.pointee.data, count: Int(packet.raw.pointee.size))
            packet.unref()
        }
        do {
            try bytes.write(to: URL(fileURLWithPath: path))
        } catch {
            throw MediaError(stage: "thumbnail", call: "write(\(path))", code: CAV_AVERROR(EIO), message: "\(error)")
        }
    }
}
