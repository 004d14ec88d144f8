public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1, for what HTTP clients do not do: connect and say nothing, trickle a
/// request byte by byte, hold a thousand connections. Closed on `deinit`.
public final class RawSocket: @unchecked Sendable {
    public let fd: Int32
    private let lock = NSLock()
    private var received = Data()
    private var closedByPeer = false

    /// Connects (blocking: call it off the cooperative pool, ``offPool(_:)``).
    /// - Parameter timeout: How long the connection may take (a server whose accept queue is full never answers).
    /// - Throws: ``ToolFailure`` with errno when the connection is not made.
    public init(port: Int, timeout: TimeInterval = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ToolFailure(description: "socket: errno \(errno)") }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int(timeout.truncatingRemainder(dividingBy: 1) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))  // bounds connect()
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw ToolFailure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
    }

    deinit { close(fd) }

    /// Sends `text` (whole; loopback buffers are large).
    /// - Throws: ``ToolFailure`` when the peer has closed the connection.
    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw ToolFailure(description: "send: errno \(errno)") }
    }

    /// Closes the sending side (the peer reads end of stream), keeping the connection open for the answer.
    public func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Reads what has arrived without waiting; true once the peer has closed the connection (end of stream or
    /// reset).
    public func peerClosed() -> Bool {
        lock.withLock {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !closedByPeer {
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n > 0 { received.append(contentsOf: buffer[0..<n]); continue }
                if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { closedByPeer = true }
                break
            }
            return closedByPeer
        }
    }

    /// Everything received so far (read by ``peerClosed()``).
    public var text: String {
        _ = peerClosed()
        return lock.withLock { String(decoding: received, as: UTF8.self) }
    }

    /// Waits, without blocking a thread, until the peer closes the connection or `timeout` passes.
    /// - Returns: The time it took, or nil when the connection is still open.
    public func waitUntilPeerCloses(timeout: Duration) async -> Duration? {
        let clock = ContinuousClock(), start = clock.now
        while clock.now - start < timeout {
            if peerClosed() { return clock.now - start }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return peerClosed() ? clock.now - start : nil
    }
}
