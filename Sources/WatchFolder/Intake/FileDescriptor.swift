import CInotify
#if canImport(Glibc)
import Glibc
#endif

/// An owned file descriptor, closed in `deinit`.
final class FileDescriptor: Sendable {
    let raw: Int32

    init(_ raw: Int32) { self.raw = raw }

    deinit { _ = close(raw) }
}
