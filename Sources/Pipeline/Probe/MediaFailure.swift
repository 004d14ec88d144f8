import Foundation

/// The one-line errors a libav failure or an interruption becomes, naming the file.
extension PipelineError {
    /// Maps a libav failure during a transcode onto an error naming the file.
    static func transcoding(_ error: MediaError, source: SourceFile) -> PipelineError {
        let file = source.name
        switch error.stage {
        case "refuse", "limit": return ProbeReader.openFailure(error, source: source)
        case "bound": return PipelineError(.limit, file: file, error.message)
        case "changed": return PipelineError(.changedInput, file: file, error.message)
        default: break
        }
        if error.stage == "demux", error.call == "avformat_open_input" { return ProbeReader.openFailure(error, source: source) }
        if error.isOutOfMemory {
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
    private static func seconds(_ s: Double) -> String { s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(s) }
}
