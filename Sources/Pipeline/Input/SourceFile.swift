import COpenat2
public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One source opened once, by descriptor: what the engine reads, whatever happens to its path afterwards.
///
/// The daemon opens a job's file with ``open(_:beneath:)`` (no symbolic link anywhere on the path, never outside
/// the inbox); the CLI opens the file it is given with ``open(path:)`` (the file itself must not be a symbolic
/// link). Both open `O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC` (a FIFO cannot block the open) and accept
/// only a regular file. The descriptor is closed when the last reference goes.
///
/// The engine reads at most ``Status/size`` bytes (the size seen at open), with `pread`, so bytes appended
/// later are never read.
public final class SourceFile: Sendable, Hashable {
    /// What `fstat` said at open.
    public struct Status: Sendable, Hashable {
        /// `regular`, `directory`, `symlink`, `fifo`, `socket`, `character device`, `block device`.
        public var kind: String
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        /// `st_mtim` in nanoseconds since the epoch.
        public var mtimeNanoseconds: Int64

        init(_ st: stat) {
            kind = switch st.st_mode & S_IFMT {
            case S_IFREG: "regular"
            case S_IFDIR: "directory"
            case S_IFLNK: "symlink"
            case S_IFIFO: "fifo"
            case S_IFSOCK: "socket"
            case S_IFCHR: "character device"
            case S_IFBLK: "block device"
            default: "unknown"
            }
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        }
    }

    /// The open descriptor (owned: closed in `deinit`).
    public let descriptor: Int32
    /// The file name used in messages (`clip.mp4`).
    public let name: String
    public let status: Status
    /// True for regular files: read with `pread` at any offset; otherwise (an adopted pipe or FIFO) read in order.
    public var isSeekable: Bool { status.kind == "regular" }

    deinit { close(descriptor) }

    /// The flags of every open: read-only, never through a final symlink, never blocking, not inherited.
    static let openFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC

    /// Opens the file at `path` (the CLI): `O_NOFOLLOW`, so a symbolic link named on the command line is refused.
    /// - Throws: ``PipelineError`` naming the file: `missingInput`, `unreadableInput`, or `refusedInput` when it is
    ///   not a regular file.
    public static func open(path: String) throws(PipelineError) -> SourceFile {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let fd = Glibc.open(path, openFlags)
        guard fd >= 0 else { throw openError(errno, name: name) }
        return try adopt(fd, name: name, requireRegular: true)
    }

    /// Opens `relativePath` beneath the folder `root` (the daemon): no `..`, no absolute path, no symbolic link on
    /// any component. Uses `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the kernel has it (Linux 5.6),
    /// else walks the components with `openat(O_NOFOLLOW | O_DIRECTORY)`.
    /// - Throws: ``PipelineError`` as ``open(path:)``; `refusedInput` for a path that leaves `root` or crosses a link.
    public static func open(_ relativePath: String, beneath root: URL) throws(PipelineError) -> SourceFile {
        try open(relativePath, beneath: root, useOpenat2: true)
    }

    /// ``open(_:beneath:)``, with the `openat2` path switchable off (the tests of the fallback walk).
    static func open(_ relativePath: String, beneath root: URL, useOpenat2: Bool) throws(PipelineError) -> SourceFile {
        let name = (relativePath as NSString).lastPathComponent
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !relativePath.hasPrefix("/"), !components.isEmpty,
              components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw PipelineError(.refusedInput, file: name, "refused: '\(relativePath)' is not a plain path beneath the inbox")
        }
        let dir = Glibc.open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else {
            throw PipelineError(.unreadableInput, file: name, "cannot open the inbox \(root.path) (\(String(cString: strerror(errno))))")
        }
        defer { close(dir) }
        if useOpenat2 {
            let fd = COpenat2_openat2(dir, relativePath, UInt64(openFlags),
                                      COpenat2_RESOLVE_BENEATH | COpenat2_RESOLVE_NO_SYMLINKS | COpenat2_RESOLVE_NO_MAGICLINKS)
            if fd >= 0 { return try adopt(fd, name: name, requireRegular: true) }
            let code = errno
            // Kernels before 5.6 (ENOSYS) and seccomp filters that refuse the call (EPERM) take the walk.
            if code != ENOSYS && code != EPERM { throw openError(code, name: name) }
        }
        var current = dir
        defer { if current != dir { close(current) } }
        for component in components.dropLast() {
            let next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { throw openError(errno, name: name) }
            if current != dir { close(current) }
            current = next
        }
        let fd = openat(current, components[components.count - 1], openFlags)
        guard fd >= 0 else { throw openError(errno, name: name) }
        return try adopt(fd, name: name, requireRegular: true)
    }

    /// Takes ownership of `descriptor` (any kind: a regular file, a pipe, a FIFO), e.g. for a test harness. A
    /// descriptor that is not a regular file is set non-blocking and read in order, without seeking.
    /// - Throws: ``PipelineError`` when `fstat` fails (the descriptor is closed then).
    public init(adopting descriptor: Int32, name: String) throws(PipelineError) {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else {
            let code = errno
            close(descriptor)
            throw Self.openError(code, name: name)
        }
        self.descriptor = descriptor
        self.name = name
        self.status = Status(st)
        if !isSeekable { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK) }
    }

    /// Adopts `fd` and refuses anything but a regular file (closing it).
    private static func adopt(_ fd: Int32, name: String, requireRegular: Bool) throws(PipelineError) -> SourceFile {
        let file = try SourceFile(adopting: fd, name: name)
        if requireRegular && file.status.kind != "regular" {
            let what = file.status.kind == "directory" ? "a folder" : "a \(file.status.kind)"
            throw PipelineError(.refusedInput, file: name, "not a regular file (\(what)); it was not read")
        }
        return file
    }

    /// Reads up to `limit` bytes from the start of a regular file with `pread` (a small file read whole: a
    /// sidecar, a package's picture), stopping early at its end.
    /// - Returns: The bytes read, and the `strerror` text of the read that failed, if one did (the bytes are those
    ///   read before it).
    public func read(upTo limit: Int) -> (bytes: [UInt8], failure: String?) {
        var bytes = [UInt8](repeating: 0, count: max(0, limit))
        var done = 0
        var failure: String?
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { failure = String(cString: strerror(errno)) }
            guard n > 0 else { break }
            done += n
        }
        bytes.removeSubrange(done...)
        return (bytes, failure)
    }

    /// The same open file (identity).
    public static func == (a: SourceFile, b: SourceFile) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

    /// One line for a failed open.
    static func openError(_ code: Int32, name: String) -> PipelineError {
        let text = String(cString: strerror(code))
        switch code {
        case ENOENT:
            return PipelineError(.missingInput, file: name, "no such file")
        case ELOOP:
            return PipelineError(.refusedInput, file: name, "refused: a symbolic link on its path (links are not followed)")
        case EXDEV:
            return PipelineError(.refusedInput, file: name, "refused: its path leads outside the inbox")
        case ENOTDIR:
            return PipelineError(.refusedInput, file: name, "refused: a folder on its path is not a folder")
        default:
            return PipelineError(.unreadableInput, file: name, "cannot open the file (\(text))")
        }
    }
}
