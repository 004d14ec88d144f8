import CInotify
#if canImport(Glibc)
import Glibc
#endif

/// Errno-exact wrappers over the inotify, eventfd, poll and statfs calls the intake makes.
///
/// Each wrapper calls once, reads `errno` immediately, retries on `EINTR` and throws ``IntakeError`` naming the
/// call (the NIO `syscall(blocking:where:_:)` pattern). Descriptors are returned raw; ``FileDescriptor`` owns them.
enum Inotify {
    /// The events every intake watch asks for.
    static let watchMask: UInt32 = CInotify_IN_CLOSE_WRITE | CInotify_IN_MOVED_TO | CInotify_IN_MOVED_FROM
        | CInotify_IN_CREATE | CInotify_IN_DELETE | CInotify_IN_MODIFY | CInotify_IN_DELETE_SELF
        | CInotify_IN_MOVE_SELF | CInotify_IN_ONLYDIR | CInotify_IN_EXCL_UNLINK

    /// Calls `body` until it does not fail with `EINTR`; throws errno and `call` on any other failure.
    @discardableResult
    static func syscall<T: FixedWidthInteger>(_ call: String, path: String? = nil, _ body: () -> T) throws(IntakeError) -> T {
        while true {
            let result = body()
            if result == -1 {
                let err = errno
                if err == EINTR { continue }
                throw IntakeError(call: call, errno: err, path: path)
            }
            return result
        }
    }

    /// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
    static func initialize() throws(IntakeError) -> Int32 {
        try syscall("inotify_init1") { inotify_init1(CInotify_IN_NONBLOCK | CInotify_IN_CLOEXEC) }
    }

    /// `inotify_add_watch(fd, path, mask)`: the watch descriptor.
    static func addWatch(_ fd: Int32, path: String, mask: UInt32 = watchMask) throws(IntakeError) -> Int32 {
        try syscall("inotify_add_watch", path: path) { inotify_add_watch(fd, path, mask) }
    }

    /// `inotify_rm_watch(fd, wd)`; `EINVAL` (the watch is already gone) is not an error.
    static func removeWatch(_ fd: Int32, wd: Int32) throws(IntakeError) {
        do {
            try syscall("inotify_rm_watch") { inotify_rm_watch(fd, wd) }
        } catch where error.errno == EINVAL {
            return
        }
    }

    /// `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
    static func eventFD() throws(IntakeError) -> Int32 {
        try syscall("eventfd") { CInotify_eventfd_nonblocking(0) }
    }

    /// Adds 1 to an eventfd's counter, waking whoever polls it. `EAGAIN` (counter saturated) is not an error.
    static func signal(eventFD fd: Int32) throws(IntakeError) {
        var one: UInt64 = 1
        do {
            try syscall("write") { withUnsafeBytes(of: &one) { write(fd, $0.baseAddress, $0.count) } }
        } catch where error.errno == EAGAIN {
            return
        }
    }

    /// `poll(2)` on `fds` for `POLLIN`: which of them are readable (or in error). Empty on timeout.
    ///
    /// - Parameter timeoutMilliseconds: -1 waits forever.
    static func poll(_ fds: [Int32], timeoutMilliseconds: Int32) throws(IntakeError) -> [Int32] {
        var pollfds = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ready = try syscall("poll") { Glibc.poll(&pollfds, nfds_t(pollfds.count), timeoutMilliseconds) }
        guard ready > 0 else { return [] }
        return pollfds.filter { $0.revents != 0 }.map(\.fd)
    }

    /// Reads every queued event from a non-blocking inotify descriptor (until `EAGAIN`).
    ///
    /// - Parameter buffer: scratch space, at least `sizeof(inotify_event) + NAME_MAX + 1` bytes.
    static func readEvents(_ fd: Int32, buffer: UnsafeMutableRawBufferPointer) throws(IntakeError) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        while true {
            let count: Int
            do {
                count = try syscall("read") { read(fd, buffer.baseAddress, buffer.count) }
            } catch where error.errno == EAGAIN {
                return events
            }
            if count == 0 { return events }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let raw = buffer.baseAddress! + offset
                let event = raw.assumingMemoryBound(to: inotify_event.self)
                events.append(InotifyEvent(
                    wd: event.pointee.wd, mask: event.pointee.mask, cookie: event.pointee.cookie,
                    name: String(cString: CInotify_event_name(event))
                ))
                offset += header + Int(event.pointee.len)
            }
        }
    }

    /// Drains an eventfd's counter; true when it had been signalled.
    static func drain(eventFD fd: Int32) -> Bool {
        var value: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &value) { read(fd, $0.baseAddress, $0.count) }
        return n == MemoryLayout<UInt64>.size && value > 0
    }

    /// `statfs(path).f_type`, the filesystem's magic number.
    static func filesystemType(_ path: String) throws(IntakeError) -> Int64 {
        var type: Int64 = 0
        try syscall("statfs", path: path) { CInotify_statfs_type(path, &type) }
        return type
    }
}
