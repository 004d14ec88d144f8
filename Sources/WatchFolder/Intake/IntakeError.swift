#if canImport(Glibc)
import Glibc
#endif

/// A failed system call of the intake: the call, errno, its message and the path involved.
///
/// `inotify_add_watch(/srv/inbox/a): No space left on device (errno 28)`.
public struct IntakeError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The C call that failed (`inotify_init1`, `poll`, `opendir`...).
    public var call: String
    /// `errno` right after the call.
    public var errno: Int32
    /// The path the call was about, when it had one.
    public var path: String?
    /// Where in watchfolder's source the error was raised (`#fileID`, `#line`).
    public var file: String
    public var line: Int

    public init(call: String, errno: Int32, path: String? = nil, file: String = #fileID, line: Int = #line) {
        self.call = call
        self.errno = errno
        self.path = path
        self.file = file
        self.line = line
    }

    /// `strerror(errno)`.
    public var message: String { String(cString: strerror(errno)) }

    public var description: String {
        let subject = path.map { "\(call)(\($0))" } ?? call
        return "\(subject): \(message) (errno \(errno))"
    }
}
