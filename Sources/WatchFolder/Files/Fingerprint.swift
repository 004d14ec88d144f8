import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What identifies one version of a file: the same path with another fingerprint is another upload.
///
/// The device number is kept (it tells this host's filesystems apart) but never compared with a recorded one
/// (``isVersion(inode:size:mtimeNanoseconds:)``): nodes of a cluster mounting one share over NFS or SMB each see the
/// share under a device number of their own, and a host may number a filesystem anew after a reboot.
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

    /// True when this is the version recorded with `inode`, `size` and modification time `mtimeNanoseconds`, as seen
    /// from any host.
    public func isVersion(inode: Int64, size: Int64, mtimeNanoseconds: Int64) -> Bool {
        Int64(bitPattern: self.inode) == inode && self.size == size && self.mtimeNanoseconds == mtimeNanoseconds
    }

    /// `lstat(path)` of a regular file; nil when the path is gone or is not a regular file (symlinks included).
    static func of(regularFileAt path: String) -> Fingerprint? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return Fingerprint(st)
    }
}
