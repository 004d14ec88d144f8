public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file in the inbox whose upload is complete.
public struct InboxFile: Sendable, Hashable {
    /// Relative to the inbox, `/`-separated, never starting with `/` (`shows/ep1.mp4`).
    public var relativePath: String
    public var fingerprint: Fingerprint

    public init(relativePath: String, fingerprint: Fingerprint) {
        self.relativePath = relativePath
        self.fingerprint = fingerprint
    }

    /// Fingerprints `relativePath` under `root`; nil when it is gone or not a regular file.
    public static func stat(_ relativePath: String, in root: URL) -> InboxFile? {
        Fingerprint.of(regularFileAt: root.appendingPathComponent(relativePath).path)
            .map { InboxFile(relativePath: relativePath, fingerprint: $0) }
    }
}
