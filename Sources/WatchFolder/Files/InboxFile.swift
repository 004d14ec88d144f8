public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file in the inbox whose upload is complete.
public struct InboxFile: Sendable, Hashable {
    /// Relative to the inbox, `/`-separated, never starting with `/` (`shows/ep1.mp4`).
    public var relativePath: String
    public var fingerprint: Fingerprint
    /// The video's sidecars as intake found them once the video and they had settled (`jobId` not set yet).
    public var sidecars: [Sidecar]
    /// The text of its `STEM.json` when that is a JSON object of at most 64 KiB: the job's `metadata`, verbatim.
    public var metadata: String?

    public init(relativePath: String, fingerprint: Fingerprint, sidecars: [Sidecar] = [], metadata: String? = nil) {
        self.relativePath = relativePath
        self.fingerprint = fingerprint
        self.sidecars = sidecars
        self.metadata = metadata
    }

    /// Fingerprints `relativePath` under `root`; nil when it is gone or not a regular file.
    public static func stat(_ relativePath: String, in root: URL) -> InboxFile? {
        Fingerprint.of(regularFileAt: root.appendingPathComponent(relativePath).path)
            .map { InboxFile(relativePath: relativePath, fingerprint: $0) }
    }
}
