import CAV

/// An owned hardware device context (`av_hwdevice_ctx_create`), released in `deinit`.
final class HardwareDevice {
    let raw: UnsafeMutablePointer<AVBufferRef>

    /// Opens the default device of `type` (VA-API: the first render node).
    /// - Throws: ``MediaError`` (stage `hardware`) when there is no such device or driver here.
    init(_ type: AVHWDeviceType) throws(MediaError) {
        var device: UnsafeMutablePointer<AVBufferRef>? = nil
        let ret = av_hwdevice_ctx_create(&device, type, nil, nil, 0)
        guard ret >= 0, let device else {
            let name = av_hwdevice_get_type_name(type).map { String(cString: $0) } ?? "\(type.rawValue)"
            let code = ret < 0 ? ret : CAV_AVERROR(ENODEV)
            throw MediaError(stage: "hardware", call: "av_hwdevice_ctx_create(\(name))", code: code,
                             message: "\(MediaError.text(for: code)) (no usable \(name) device or driver)")
        }
        raw = device
    }

    /// The devices the engine's encoders take surfaces of.
    enum Kind {
        case vaapi
    }

    /// Opens the default device of `kind`.
    convenience init(_ kind: Kind) throws(MediaError) {
        switch kind {
        case .vaapi: try self.init(AV_HWDEVICE_TYPE_VAAPI)
        }
    }

    deinit {
        var p: UnsafeMutablePointer<AVBufferRef>? = raw
        av_buffer_unref(&p)
    }

    /// The device's frame format (`vaapi`, `vulkan`...): the first its frame constraints list.
    var frameFormat: AVPixelFormat {
        var constraints = av_hwdevice_get_hwframe_constraints(raw, nil)
        defer { av_hwframe_constraints_free(&constraints) }
        return constraints?.pointee.valid_hw_formats?.pointee ?? AV_PIX_FMT_NONE
    }
}
