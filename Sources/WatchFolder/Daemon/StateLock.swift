import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per `[state] path`: an exclusive `flock` on `watchfolder.lock` there, held for the life of the
/// process (the kernel lets it go when the process ends, however it ends: a `kill -9` leaves no stale lock).
///
/// A second `watchfolder run` on the same state folder (an admin debugging beside the service) would otherwise
/// "recover" the first one's running jobs at start and run them a second time.
final class StateLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, or throws ``StateLockError/held(pid:state:)`` naming the daemon that has it.
    init(state: URL) throws {
        let path = state.appendingPathComponent("watchfolder.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw FileError(call: "open", path: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let holder = Self.recordedPID(fd)
            close(fd)
            if failure == EWOULDBLOCK { throw StateLockError.held(pid: holder, state: state.path) }
            throw FileError(call: "flock", path: path, errno: failure)
        }
        // Who holds it, for the next one's message; the lock, not this text, is what counts.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) != 0 || pwrite(fd, text, text.count, 0) != text.count {
            let failure = errno
            close(fd)
            throw FileError(call: "write", path: path, errno: failure)
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    private static func recordedPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// The state folder is another daemon's.
public enum StateLockError: Error, CustomStringConvertible, Sendable {
    case held(pid: Int32?, state: String)

    public var description: String {
        switch self {
        case let .held(pid, state):
            "another watchfolder (pid \(pid.map(String.init) ?? "unknown")) is running with \(state)"
        }
    }
}
