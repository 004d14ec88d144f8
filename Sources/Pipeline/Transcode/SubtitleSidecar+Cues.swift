import Foundation

extension SubtitleSidecar {
    /// Reads the sidecar by its descriptor (at most ``SubtitleCue/Bounds/maxFileBytes``) and parses it.
    /// - Throws: ``PipelineError`` (``PipelineError/Code/badSidecar``) whose description is one line naming the file and line:
    ///   `clip.en.srt:12: expected a timing line like "00:00:01,000 --> 00:00:02,000", found "..."`; a file that is
    ///   too large, or cannot be read, names the file.
    func readCues() throws(PipelineError) -> [SubtitleCue] {
        let limit = SubtitleCue.Bounds.maxFileBytes
        guard file.status.size <= Int64(limit) else {
            throw PipelineError(.badSidecar, file: name, "subtitle sidecar larger than 4 MiB (\(file.status.size) bytes); it was not read")
        }
        let (bytes, failure) = file.read(upTo: Int(file.status.size))
        if let failure {
            throw PipelineError(.unreadableInput, file: name, "cannot read the subtitle sidecar (\(failure))")
        }
        do {
            return try SubtitleFileParser(format: format == "vtt" ? .vtt : .srt).parse(bytes)
        } catch {
            throw PipelineError(.badSidecar, file: "\(name):\(error.line)", error.reason)
        }
    }
}
