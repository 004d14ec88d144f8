/// Opens a tiny encoder session to learn whether a (GPU) encoder really works here.
enum EncoderProbe {
    /// True when `name` exists in libavcodec and opens at 256x144 with the options a job uses (VA-API: on
    /// surfaces of its device, as a job's encoders are).
    static func opens(_ name: String) -> Bool {
        LibAV.configure()
        do {
            var frames: HardwareFrames?
            if let type = Encoders.deviceType(for: name) {
                frames = try HardwareFrames(device: HardwareDevice(type), width: 256, height: 144,
                                            softwareFormat: Encoders.softwareFormat(for: name))
            }
            _ = try Encoders.video(VideoEncoderSettings(
                encoder: name, width: 256, height: 144, frameRate: Rational(25, 1), bitrate: 500_000,
                maxrate: 535_000, bufsize: 750_000, preset: "ultrafast", gop: 25, globalHeader: false, hardwareFrames: frames))
            return true
        } catch {
            return false
        }
    }
}
