public import Foundation

/// A condition the tests waited for did not come true in time (or could no longer come true).
public struct Timeout: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// Polls `condition` every 100 ms until it holds. Sleeps with `Task.sleep`, so no thread of the shared cooperative
/// pool is blocked (see ``offPool(_:)``).
/// - Throws: ``Timeout`` after `timeout` seconds, or what `condition` throws (to give up early).
public func waitUntil(_ what: String, timeout: TimeInterval = 60, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw Timeout(description: "timed out after \(Int(timeout))s waiting until \(what)")
}

/// Runs blocking work (child processes, ffmpeg, polling loops) on a dispatch queue of its own instead of Swift
/// concurrency's small cooperative pool (one thread per core), so the other tests in this process, timing-sensitive
/// ones included, keep their threads. The same task runs it (a task executor preference), so `#expect` and issues
/// recorded in `body` still report to the calling test.
public func offPool<T: Sendable>(_ body: () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(QueueExecutor()) {
        try body()
    }
}

/// A task executor running jobs on a private serial dispatch queue (dispatch's overcommit threads).
private final class QueueExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "watchfolder.tests.blocking")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
