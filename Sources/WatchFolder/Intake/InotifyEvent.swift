import CInotify
#if canImport(Glibc)
import Glibc
#endif

/// One decoded `struct inotify_event`.
struct InotifyEvent: Sendable, Hashable {
    var wd: Int32
    var mask: UInt32
    var cookie: UInt32
    /// The entry's name inside the watched directory; empty for events about the directory itself.
    var name: String

    func has(_ flag: UInt32) -> Bool { mask & flag != 0 }

    /// What the kernel queues when events were dropped (`IN_Q_OVERFLOW`, watch descriptor -1).
    static let queueOverflow = InotifyEvent(wd: -1, mask: CInotify_IN_Q_OVERFLOW, cookie: 0, name: "")
}
