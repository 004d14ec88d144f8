import CAV

/// Opens a tiny encoder session to learn whether a (GPU) encoder really works here.
enum EncoderProbe {
    /// True when `name` exists in libavcodec and opens at 256x144 (VA-API: with a device and frames context).
    static func opens(_ name: String) -> Bool {
        LibAV.configure()
        guard let codec = avcodec_find_encoder_by_name(name), let ctx = try? CodecContext(codec: codec, stage: "probe") else {
            return false
        }
        let c = ctx.raw
        c.pointee.width = 256
        c.pointee.height = 144
        c.pointee.time_base = AVRational(num: 1, den: 25)
        c.pointee.framerate = AVRational(num: 25, den: 1)
        c.pointee.pix_fmt = name == "h264_qsv" ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P
        var device: UnsafeMutablePointer<AVBufferRef>? = nil
        defer { av_buffer_unref(&device) }
        if name == "h264_vaapi" {
            guard av_hwdevice_ctx_create(&device, AV_HWDEVICE_TYPE_VAAPI, nil, nil, 0) >= 0, let device,
                  let allocated = av_hwframe_ctx_alloc(device) else { return false }
            var frames: UnsafeMutablePointer<AVBufferRef>? = allocated
            defer { av_buffer_unref(&frames) }
            allocated.pointee.data.withMemoryRebound(to: AVHWFramesContext.self, capacity: 1) { fc in
                fc.pointee.format = AV_PIX_FMT_VAAPI
                fc.pointee.sw_format = AV_PIX_FMT_NV12
                fc.pointee.width = 256
                fc.pointee.height = 144
            }
            guard av_hwframe_ctx_init(allocated) >= 0 else { return false }
            c.pointee.pix_fmt = AV_PIX_FMT_VAAPI
            c.pointee.hw_frames_ctx = av_buffer_ref(allocated)
        }
        return (try? ctx.open()) != nil
    }
}
