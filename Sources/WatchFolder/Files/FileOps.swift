import CFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// errno-exact wrappers over the file calls that publication and file effects make (NIO's `syscall(blocking:)`
/// pattern): each retries on `EINTR` and throws ``FileError`` naming the call and the path.
///
/// - Important: Every call blocks: run them off the cooperative pool (``BlockingIO``).
enum FileOps {
    /// Runs `body` until it stops failing with `EINTR`; throws the errno of any other failure.
    @discardableResult
    static func call<T: BinaryInteger>(_ name: String, _ path: String, _ body: () -> T) throws(FileError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw FileError(call: name, path: path, errno: code)
        }
    }

    /// `renameat2(from, to, RENAME_NOREPLACE)`: never replaces `to`. Throws `EEXIST` when `to` exists, `EXDEV`
    /// across filesystems, `EINVAL`/`ENOSYS` when the filesystem does not support the flag.
    static func renameNoReplace(_ from: String, _ to: String) throws(FileError) {
        try call("renameat2", to) { CFiles_rename_noreplace(from, to) }
    }

    /// `link(from, to)`: a second name for a file; `EEXIST` when `to` exists (never replaced).
    static func link(_ from: String, _ to: String) throws(FileError) {
        try call("link", to) { Glibc.link(from, to) }
    }

    static func unlink(_ path: String) throws(FileError) {
        try call("unlink", path) { Glibc.unlink(path) }
    }

    /// `unlink`, quiet when the file is already gone.
    static func unlinkIfPresent(_ path: String) throws(FileError) {
        do { try unlink(path) } catch where error.errno == ENOENT {}
    }

    /// `mkdir(path, 0755)` (minus the umask); `EEXIST` when something has the name.
    static func mkdir(_ path: String) throws(FileError) {
        try call("mkdir", path) { Glibc.mkdir(path, 0o755) }
    }

    /// `fsync` of a file or folder by path: its data and the entries of a folder reach the disk.
    static func fsync(_ path: String, directory: Bool = false) throws(FileError) {
        let fd = try call("open", path) { open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (directory ? O_DIRECTORY : 0)) }
        defer { close(fd) }
        try call("fsync", path) { Glibc.fsync(fd) }
    }

    /// `syncfs` of the filesystem holding `path`: everything written to it reaches the disk.
    static func syncfs(_ path: String) throws(FileError) {
        let fd = try call("open", path) { open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY) }
        defer { close(fd) }
        try call("syncfs", path) { CFiles_syncfs(fd) }
    }

    /// `lstat`, or nil when nothing has the name.
    static func lstat(_ path: String) -> stat? {
        var st = stat()
        return Glibc.lstat(path, &st) == 0 ? st : nil
    }

    /// True when both names are the same file (device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let x = lstat(a), let y = lstat(b) else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    /// Copies the regular file `from` to the new name `to` (created exclusively: an existing `to` is `EEXIST`), with
    /// its mode and modification time, and fsyncs it.
    static func copyFile(_ from: String, to: String) throws(FileError) {
        let input = try call("open", from) { open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        defer { close(input) }
        var st = stat()
        try call("fstat", from) { fstat(input, &st) }
        let output = try call("open", to) { open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 0o7777) }
        defer { close(output) }
        var remaining = Int64(st.st_size)
        var useCopyRange = true
        while remaining > 0 {
            if useCopyRange {
                let n = CFiles_copy_file_range(input, output, Int(min(remaining, 1 << 30)))
                if n > 0 { remaining -= Int64(n); continue }
                if n == 0 { break }
                let code = Glibc.errno
                if code == EINTR { continue }
                guard [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EBADF].contains(code) else {
                    throw FileError(call: "copy_file_range", path: to, errno: code)
                }
                useCopyRange = false  // an old kernel or a filesystem without it: plain reads and writes
            }
            try copyBytes(input, output, path: to)
            break
        }
        var times = [st.st_atim, st.st_mtim]
        try call("futimens", to) { futimens(output, &times) }
        try call("fsync", to) { Glibc.fsync(output) }
    }

    private static func copyBytes(_ input: Int32, _ output: Int32, path: String) throws(FileError) {
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let got = try call("read", path) { read(input, buffer, size) }
            if got == 0 { return }
            var offset = 0
            while offset < got {
                offset += try call("write", path) { write(output, buffer + offset, got - offset) }
            }
        }
    }
}
