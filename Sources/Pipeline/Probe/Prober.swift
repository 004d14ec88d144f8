public import Foundation

/// Reads a file's container and streams (`watchfolder probe`), refusing files the engine cannot transcode.
public enum Prober {
    /// Probes `url`.
    /// - Throws: ``PipelineError`` with a one-line reason naming the file (`x.mp4: no video stream found ...`).
    public static func probe(_ url: URL) throws -> MediaInfo {
        try probeTyped(url)
    }

    static func probeTyped(_ url: URL) throws(PipelineError) -> MediaInfo {
        LibAV.configure()
        let name = url.lastPathComponent
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let size = (attributes?[.size] as? NSNumber)?.int64Value else {
            throw PipelineError(.unreadableInput, file: name, "cannot read the file (no such file or permission denied)")
        }
        if size == 0 { throw PipelineError(.badInput, file: name, "empty file (0 bytes)") }
        return try ProbeReader.read(path: url.path, name: name, size: size)
    }
}
