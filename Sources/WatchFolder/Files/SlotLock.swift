import CFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock, across processes, on one numbered slot of a lock file (an open-file-description lock on one
/// byte): how the daemon and the CLI keep from carrying out the same file effect at once (`watchfolder retry` moves
/// the source back itself while the daemon, woken by the same commit, would too). The kernel releases it when the
/// descriptor closes, however the process ends.
struct SlotLock: Sendable {
    private let descriptor: Int32

    /// Opens (creating) `file` and waits, off the cooperative pool, until slot `slot` is free.
    /// - Throws: ``FileError`` when the file cannot be opened or locked.
    static func acquire(_ file: URL, slot: Int64) async throws -> SlotLock {
        try await BlockingIO.run {
            let fd = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw FileError(call: "open", path: file.path, errno: errno) }
            while CFiles_lock_byte(fd, slot) != 0 {
                let failure = errno
                if failure == EINTR { continue }
                close(fd)
                throw FileError(call: "fcntl(F_OFD_SETLKW)", path: file.path, errno: failure)
            }
            return SlotLock(descriptor: fd)
        }
    }

    /// Lets the slot go.
    func release() { close(descriptor) }
}
