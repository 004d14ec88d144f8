public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What identifies one version of a file: the same path with another fingerprint is another upload.
public struct Fingerprint: Sendable, Hashable, Codable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// `st_mtim` in nanoseconds since the epoch.
    public var mtimeNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
    }

    init(_ st: stat) {
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                  mtimeNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    /// `lstat(path)` of a regular file; nil when the path is gone or is not a regular file (symlinks included).
    static func of(regularFileAt path: String) -> Fingerprint? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return Fingerprint(st)
    }
}

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

/// What the intake tells its consumer (the job store).
public enum IntakeEvent: Sendable, Hashable {
    /// An upload is complete: after its last `CLOSE_WRITE`/`MOVED_TO` (or, when polling, its last change) the
    /// file's size and mtime stayed unchanged for `settle_seconds`.
    case settled(InboxFile)
    /// A full rescan ended (start-up, inotify queue overflow, a poll pass, the inbox coming back): every candidate
    /// file present now whose fingerprint has been stable for `settle_seconds`. Files still changing are not
    /// listed; each gets its own ``settled(_:)`` later. The consumer reconciles these with its store; a file
    /// missing from the list is *not* a deletion.
    case rescanned([InboxFile])
    /// The inbox vanished, was unmounted or cannot be read: intake stopped until it is back. Never means
    /// "files deleted".
    case paused(reason: String)
    /// The inbox is back after ``paused(reason:)``; a ``rescanned(_:)`` follows.
    case resumed
}
