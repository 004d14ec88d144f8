import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
        var bytes = [UInt8](repeating: 0, count: Int(file.status.size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            if n < 0, errno == EINTR { continue }
            if n < 0 {
                throw PipelineError(.unreadableInput, file: name, "cannot read the subtitle sidecar (\(String(cString: strerror(errno))))")
            }
            if n == 0 { break }
            done += n
        }
        bytes.removeSubrange(done...)
        do {
            return try SubtitleFileParser(format: format == "vtt" ? .vtt : .srt).parse(bytes)
        } catch {
            throw PipelineError(.badSidecar, file: "\(name):\(error.line)", error.reason)
        }
    }
}
