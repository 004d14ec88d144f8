import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a ``SourceFile`` on a thread of its own, so that a read that blocks (a hung network share, a FIFO whose
/// writer went quiet) never holds the job: the caller waits in slices of 50 ms and gives up as soon as
/// `shouldStop` says so. A read given up on finishes (or not) on the reader's thread, into the reader's own
/// buffer; the descriptor stays open until then.
///
/// Regular files are read with `pread`, never past the size seen at open; other descriptors (non-blocking) in
/// order with `read` and `poll`.
final class DescriptorReader {
    enum Outcome: Equatable {
        case bytes(Int)
        case end
        case failed(Int32)
        case stopped
    }

    let source: SourceFile
    /// The offset of the next read.
    private(set) var position: Int64 = 0
    private let shared: Shared
    private let shouldStop: () -> Bool
    private var gaveUp = false

    /// - Parameters:
    ///   - capacity: The largest single read.
    ///   - shouldStop: Asked every 50 ms while a read is pending.
    init(source: SourceFile, capacity: Int, shouldStop: @escaping () -> Bool) {
        self.source = source
        self.shouldStop = shouldStop
        shared = Shared(source: source, capacity: capacity)
        let shared = self.shared
        let thread = Thread { shared.serve() }
        thread.name = "wf-source-read"
        thread.stackSize = 256 << 10
        thread.start()
    }

    deinit { shared.finish() }

    /// The size reads stop at: the size seen at open for a regular file; unknown (nil) otherwise.
    var size: Int64? { source.isSeekable ? source.status.size : nil }

    /// Reads up to `count` bytes at ``position`` into `buffer` and advances.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Outcome {
        if gaveUp { return .stopped }
        var wanted = min(count, shared.capacity)
        if let size {
            guard position < size else { return .end }
            wanted = Int(min(Int64(wanted), size - position))
        }
        guard wanted > 0 else { return .end }
        let outcome = shared.perform(offset: position, count: wanted) { self.shouldStop() }
        switch outcome {
        case .stopped:
            gaveUp = true
        case .bytes(let n):
            memcpy(buffer, shared.buffer, n)
            position += Int64(n)
        case .end, .failed:
            break
        }
        return outcome
    }

    /// Moves ``position``; a descriptor that cannot seek only "moves" to where it is.
    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, source.isSeekable || offset == position else { return false }
        position = offset
        return true
    }
}

/// What the reader's thread and the job's thread share, under one condition lock.
private final class Shared: @unchecked Sendable {
    let source: SourceFile
    let capacity: Int
    let buffer: UnsafeMutableRawPointer
    private let condition = NSCondition()
    private var request: (offset: Int64, count: Int)?
    private var result: DescriptorReader.Outcome?
    private var finished = false

    init(source: SourceFile, capacity: Int) {
        self.source = source
        self.capacity = capacity
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// The job's side: posts a read and waits for it, asking `shouldStop` every 50 ms.
    func perform(offset: Int64, count: Int, shouldStop: () -> Bool) -> DescriptorReader.Outcome {
        condition.lock()
        defer { condition.unlock() }
        result = nil
        request = (offset, count)
        condition.broadcast()
        while result == nil {
            if !condition.wait(until: Date(timeIntervalSinceNow: 0.05)), result == nil, shouldStop() { return .stopped }
        }
        defer { result = nil }
        return result!
    }

    /// No more reads: the thread ends once its current read (if any) returns.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    /// The reader thread's loop.
    func serve() {
        condition.lock()
        while true {
            while request == nil && !finished { condition.wait() }
            if finished { break }
            let (offset, count) = request!
            request = nil
            condition.unlock()
            let outcome = readOnce(offset: offset, count: count)
            condition.lock()
            result = outcome
            condition.broadcast()
        }
        condition.unlock()
    }

    private func readOnce(offset: Int64, count: Int) -> DescriptorReader.Outcome {
        let fd = source.descriptor
        while true {
            let n = source.isSeekable ? pread(fd, buffer, count, off_t(offset)) : Glibc.read(fd, buffer, count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .end }
            let code = errno
            if code == EINTR { continue }
            guard code == EAGAIN || code == EWOULDBLOCK else { return .failed(code) }
            // Nothing to read yet (a pipe or FIFO): wait for data, and end when the job has gone.
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 100)
            if isFinished { return .stopped }
        }
    }
}
