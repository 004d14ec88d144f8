import CFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on a path: `renameat2(/srv/archive/clip.mp4): Permission denied (errno 13)`.
public struct FileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The C call that failed.
    public var call: String
    public var path: String
    public var errno: Int32
    public var description: String { "\(call)(\(path)): \(String(cString: strerror(errno))) (errno \(errno))" }
}
