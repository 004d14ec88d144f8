#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A notification that could not be delivered to systemd: the C call, `errno` and its text, and the socket.
public struct SystemdError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The failing call (`socket`, `sendto`) or `NOTIFY_SOCKET` for an unusable address.
    public var call: String
    public var errno: Int32
    /// The socket name, or what is wrong with it.
    public var detail: String

    public init(call: String, errno: Int32, detail: String) {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        "systemd notify: \(call) failed: \(String(cString: strerror(errno))) (errno \(errno)): \(detail)"
    }
}
