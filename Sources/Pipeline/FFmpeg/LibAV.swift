import CAV
import Foundation

/// Process-wide libav set-up.
enum LibAV {
    /// Silences libav's own stderr logging (errors reach callers as ``PipelineError`` lines instead);
    /// `WATCHFOLDER_AV_LOG=debug|verbose|info|warning|error` turns it back on for diagnosis.
    static let configured: Bool = {
        let level: Int32 = switch ProcessInfo.processInfo.environment["WATCHFOLDER_AV_LOG"] {
        case "debug": AV_LOG_DEBUG
        case "verbose": AV_LOG_VERBOSE
        case "info": AV_LOG_INFO
        case "warning": AV_LOG_WARNING
        case "error": AV_LOG_ERROR
        default: AV_LOG_QUIET
        }
        av_log_set_level(level)
        return true
    }()

    static func configure() { _ = configured }

    /// Maps a libav failure during a transcode onto a ``PipelineError`` naming the file.
    static func pipelineError(_ error: MediaError, file: String) -> PipelineError {
        let code: PipelineError.Code = error.stage == "demux" || error.stage == "decode" ? .badInput : .media
        if error.stage == "demux", error.call == "avformat_open_input" { return ProbeReader.openFailure(error, name: file, path: nil) }
        return PipelineError(code, file: file, "\(error.stage) failed: \(error.message)", call: error.call, stage: error.stage)
    }
}
