import Crypto
import Foundation

/// Streaming digests of a file range, a bounded buffer at a time.
enum FileDigest {
    /// Hex SHA-256 of `length` bytes of `path` from `offset`.
    static func sha256(path: String, offset: Int64, length: Int64) throws(S3Error) -> String {
        var hasher = SHA256()
        try read(path: path, offset: offset, length: length) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hex
    }

    /// Hex MD5 of `length` bytes of `path` from `offset` (to compare with a part's ETag on resume).
    static func md5(path: String, offset: Int64, length: Int64) throws(S3Error) -> String {
        var hasher = Insecure.MD5()
        try read(path: path, offset: offset, length: length) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hex
    }

    private static func read(path: String, offset: Int64, length: Int64,
                             _ body: (UnsafeRawBufferPointer) -> Void) throws(S3Error) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw S3Error(.localFile, target: path, message: "open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var position = offset
        var remaining = length
        while remaining > 0 {
            let got = pread(fd, buffer, Int(min(Int64(size), remaining)), off_t(position))
            if got < 0 {
                if errno == EINTR { continue }
                throw S3Error(.localFile, target: path, message: "pread: \(String(cString: strerror(errno)))")
            }
            if got == 0 { throw S3Error(.localFile, target: path, message: "file shrank while it was read") }
            body(UnsafeRawBufferPointer(start: buffer, count: got))
            position += Int64(got)
            remaining -= Int64(got)
        }
    }
}
