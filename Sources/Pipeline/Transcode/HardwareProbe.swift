/// Chooses the H.264 encoder: a pure selection function plus a cached real probe of the GPU encoders.
public enum HardwareProbe {
    /// GPU encoders in the order `auto` tries them.
    public static let gpuEncoders = ["h264_nvenc", "h264_vaapi", "h264_qsv"]
    public static let cpuEncoder = "libx264"

    /// The encoder name a preference means (`nvenc` → `h264_nvenc`); nil for `auto`.
    public static func encoderName(for preference: HardwarePreference) -> String? {
        switch preference {
        case .auto: nil
        case .cpu: cpuEncoder
        case .nvenc: "h264_nvenc"
        case .vaapi: "h264_vaapi"
        case .qsv: "h264_qsv"
        }
    }

    /// Pure selection: `cpu` → libx264; `auto` → the first of ``gpuEncoders`` in `available`, else libx264;
    /// a named GPU → that encoder when available.
    /// - Throws: ``PipelineError`` (``PipelineError/Code/hardware``) when a named GPU encoder is not available.
    public static func select(_ preference: HardwarePreference, available: Set<String>) throws -> String {
        switch preference {
        case .cpu:
            return cpuEncoder
        case .auto:
            return gpuEncoders.first { available.contains($0) } ?? cpuEncoder
        case .nvenc, .vaapi, .qsv:
            let name = encoderName(for: preference)!
            guard available.contains(name) else {
                throw PipelineError(.hardware, file: name,
                                    "hardware = \"\(preference.rawValue)\" but the \(name) encoder does not open on this machine (no such GPU or driver); use \"auto\" or \"cpu\"")
            }
            return name
        }
    }

    /// The GPU encoders that opened a tiny session on this machine. Probed once per process, then cached.
    public static var available: Set<String> { cached }

    private static let cached: Set<String> = Set(gpuEncoders.filter { EncoderProbe.opens($0) })

    /// Throws when `preference` names a GPU that is not here (a config error for the CLI and daemon).
    public static func check(_ preference: HardwarePreference) throws {
        _ = try select(preference, available: preference == .auto || preference == .cpu ? [] : available)
    }
}
