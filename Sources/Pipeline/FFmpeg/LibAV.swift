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
    static func pipelineError(_ error: MediaError, source: SourceFile) -> PipelineError {
        let file = source.name
        switch error.stage {
        case "refuse", "limit": return ProbeReader.openFailure(error, source: source)
        case "bound": return PipelineError(.limit, file: file, error.message)
        case "changed": return PipelineError(.changedInput, file: file, error.message)
        default: break
        }
        if error.stage == "demux", error.call == "avformat_open_input" { return ProbeReader.openFailure(error, source: source) }
        if error.code == CAV_AVERROR(ENOMEM) {
            return PipelineError(.media, file: file, "out of memory (\(error.stage): \(error.call))", call: error.call, stage: error.stage)
        }
        let code: PipelineError.Code = error.stage == "demux" || error.stage == "decode" ? .badInput : .media
        return PipelineError(code, file: file, "\(error.stage) failed: \(error.message)", call: error.call, stage: error.stage)
    }

    /// The error for libav calls stopped by `reason` (cancelled, past the probe deadline, stalled).
    static func interrupted(_ reason: Interrupter.Reason, file: String, limits: Limits) -> PipelineError {
        switch reason {
        case .cancelled:
            return PipelineError(.cancelled, file: file, "cancelled")
        case .deadline:
            return PipelineError(.deadline, file: file, "the probe did not finish within \(seconds(limits.probeSeconds)) s (probe_seconds)")
        case .stalled:
            return PipelineError(.stalled, file: file, "stalled: nothing decoded for \(seconds(limits.stallSeconds)) s (stall_seconds)")
        }
    }

    /// `30` or `2.5`.
    static func seconds(_ s: Double) -> String { s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(s) }
}
