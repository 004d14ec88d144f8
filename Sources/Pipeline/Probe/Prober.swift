public import Foundation

/// Reads a file's container and streams (`watchfolder probe`), refusing files the engine cannot transcode.
public enum Prober {
    /// Probes the file at `url`, opened by ``SourceFile/open(path:)`` (a symbolic link named here is refused).
    /// - Throws: ``PipelineError`` with a one-line reason naming the file (`x.mp4: no video stream found ...`,
    ///   `x.mp4: not a supported media file (hls playlist)`).
    public static func probe(_ url: URL, limits: Limits = Limits()) throws -> MediaInfo {
        let source = try SourceFile.open(path: url.path)
        return try probeTyped(source, limits: limits, interrupter: Interrupter())
    }

    /// Probes an opened source within `limits.probeSeconds`: only media containers are opened (playlists,
    /// manifests and other indirections are refused unread), and frames, streams and declared duration are held
    /// against `limits`.
    /// - Throws: ``PipelineError``, one line naming the file.
    public static func probe(_ source: SourceFile, limits: Limits = Limits()) throws -> MediaInfo {
        try probeTyped(source, limits: limits, interrupter: Interrupter())
    }

    static func probeTyped(_ source: SourceFile, limits: Limits, interrupter: Interrupter) throws(PipelineError) -> MediaInfo {
        LibAV.configure()
        if source.isSeekable && source.status.size == 0 { throw PipelineError(.badInput, file: source.name, "empty file (0 bytes)") }
        interrupter.setDeadline(seconds: limits.probeSeconds)
        defer { interrupter.setDeadline(seconds: nil) }
        let input: InputFile
        do {
            input = try InputFile(source: source, limits: limits, interrupter: interrupter)
        } catch {
            if let reason = interrupter.reason { throw PipelineError.interrupted(reason, file: source.name, limits: limits) }
            throw ProbeReader.openFailure(error, source: source)
        }
        let info = try ProbeReader.read(input, source: source, limits: limits)
        if let reason = interrupter.reason { throw PipelineError.interrupted(reason, file: source.name, limits: limits) }
        return info
    }
}
