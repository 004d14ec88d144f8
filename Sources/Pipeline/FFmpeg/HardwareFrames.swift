import CAV

/// An owned pool of same-size surfaces on a ``HardwareDevice`` (`AVHWFramesContext`), and the upload of
/// software frames into it, as FFmpeg's `doc/examples/vaapi_encode.c` does for a VA-API encoder.
final class HardwareFrames {
    let raw: UnsafeMutablePointer<AVBufferRef>
    /// Kept alive for as long as the pool is.
    let device: HardwareDevice
    /// The surfaces' format (`AV_PIX_FMT_VAAPI`); an encoder fed from here takes it as its `pix_fmt`.
    let format: AVPixelFormat

    /// - Parameters:
    ///   - softwareFormat: the layout of the frames uploaded (the filter graph's output).
    ///   - poolSize: surfaces allocated up front; 0 lets the pool grow when the device allows it.
    /// - Throws: ``MediaError`` (stage `hardware`) when the device cannot hold such frames.
    init(device: HardwareDevice, width: Int, height: Int, softwareFormat: AVPixelFormat = AV_PIX_FMT_NV12,
         poolSize: Int32 = 0) throws(MediaError) {
        let format = device.frameFormat
        guard format != AV_PIX_FMT_NONE, let frames = av_hwframe_ctx_alloc(device.raw) else {
            throw MediaError(stage: "hardware", call: "av_hwframe_ctx_alloc", code: CAV_AVERROR(ENOSYS))
        }
        frames.pointee.data.withMemoryRebound(to: AVHWFramesContext.self, capacity: 1) { fc in
            fc.pointee.format = format
            fc.pointee.sw_format = softwareFormat
            fc.pointee.width = Int32(width)
            fc.pointee.height = Int32(height)
            fc.pointee.initial_pool_size = poolSize
        }
        let ret = av_hwframe_ctx_init(frames)
        guard ret >= 0 else {
            var p: UnsafeMutablePointer<AVBufferRef>? = frames
            av_buffer_unref(&p)
            throw MediaError(stage: "hardware", call: "av_hwframe_ctx_init(\(width)x\(height))", code: ret)
        }
        raw = frames
        self.device = device
        self.format = format
    }

    /// A pool whose uploads come in `softwareFormat`.
    convenience init(device: HardwareDevice, width: Int, height: Int, softwareFormat: PixelFormat) throws(MediaError) {
        try self.init(device: device, width: width, height: height, softwareFormat: softwareFormat.av)
    }

    deinit {
        var p: UnsafeMutablePointer<AVBufferRef>? = raw
        av_buffer_unref(&p)
    }

    /// A new reference for an encoder's `hw_frames_ctx` (the encoder releases it).
    func reference() -> UnsafeMutablePointer<AVBufferRef>? { av_buffer_ref(raw) }

    /// Copies `software` into a fresh surface in `hardware`, with its pts, picture type and other properties.
    func upload(_ software: Frame, into hardware: Frame) throws(MediaError) {
        hardware.unref()
        try MediaError.check(av_hwframe_get_buffer(raw, hardware.raw, 0), stage: "hardware", "av_hwframe_get_buffer")
        try MediaError.check(av_hwframe_transfer_data(hardware.raw, software.raw, 0), stage: "hardware", "av_hwframe_transfer_data(upload)")
        try MediaError.check(av_frame_copy_props(hardware.raw, software.raw), stage: "hardware", "av_frame_copy_props")
    }

    /// Copies surface `hardware` back into `software` (allocated here, in the pool's software format).
    func download(_ hardware: Frame, into software: Frame) throws(MediaError) {
        software.unref()
        try MediaError.check(av_hwframe_transfer_data(software.raw, hardware.raw, 0), stage: "hardware", "av_hwframe_transfer_data(download)")
        try MediaError.check(av_frame_copy_props(software.raw, hardware.raw), stage: "hardware", "av_frame_copy_props")
    }
}
