import Foundation

/// A fixed set of threads, each owning one ``CurlEasy``, that run blocking curl transfers off Swift's
/// cooperative pool.
///
/// At most `count` transfers run at once; more wait in a FIFO queue. Each thread keeps its handle (and so its
/// kept-alive connections) for its whole life. Call ``shutdown()`` when done: the threads finish the queue and exit.
/// - Important: ``cancel()`` aborts running transfers (through curl's progress callback) and fails queued ones.
final class CurlWorkers: @unchecked Sendable {  // all mutable state is guarded by `condition`
    typealias Job = @Sendable (CurlEasy?, CurlError?) -> Void

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var closed = false
    let cancellation = CurlCancellation()

    /// Starts `count` threads (at least one).
    init(count: Int, name: String = "wf-curl") {
        for index in 0..<max(1, count) {
            let thread = Thread { [self] in self.work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a worker thread with that thread's handle and returns its result.
    /// - Throws: What `body` throws; ``CurlError`` when the handle could not be created; `CancellationError`
    ///   when the pool was cancelled or shut down before the job ran.
    func run<T: Sendable>(_ body: @escaping @Sendable (CurlEasy) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = enqueue { easy, error in
                if let easy {
                    continuation.resume(with: Result { try body(easy) })
                } else {
                    continuation.resume(throwing: error ?? CancellationError())
                }
            }
            if !accepted { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Aborts running transfers and fails the queued ones.
    func cancel() {
        cancellation.cancel()
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Lets the threads exit once the queue is empty.
    func shutdown() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func enqueue(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, !cancellation.isCancelled else { return false }
        queue.append(job)
        condition.signal()
        return true
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count && !closed && !cancellation.isCancelled { condition.wait() }
        guard head < queue.count else { return nil }
        let job = queue[head]
        head += 1
        if head > 256 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        return job
    }

    private func work() {
        var easy: CurlEasy?
        var failure: CurlError?
        do { easy = try CurlEasy(cancelled: cancellation) } catch { failure = error }
        while let job = next() {
            if cancellation.isCancelled {
                job(nil, nil)
            } else {
                job(easy, failure)
            }
        }
    }
}
