/// Settings for one rendition encoder (H.264, or HEVC for a rung that keeps HDR).
struct VideoEncoderSettings {
    var encoder: String
    var width: Int
    var height: Int
    var frameRate: Rational
    var bitrate: Int
    var maxrate: Int
    var bufsize: Int
    var preset: String
    var gop: Int
    var globalHeader: Bool
    /// The surfaces a hardware-frame encoder (VA-API) takes; nil for encoders fed software frames.
    var hardwareFrames: HardwareFrames? = nil
}
