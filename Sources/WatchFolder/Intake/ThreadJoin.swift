import Dispatch
import Foundation
import Synchronization

/// The intake thread's exit, awaited by ``Intake/run()``.
final class ThreadJoin: Sendable {
    private struct State {
        var finished = false
        var error: (any Error)?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func fail(_ error: any Error) {
        state.withLock { $0.error = error }
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Waits until the thread called ``finish()``, or `limit` passed; rethrows the thread's error.
    func wait(atMost limit: Duration) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if !state.finished { state.waiter = continuation }
                return state.finished
            }
            if done { return continuation.resume() }
            let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
        if let error = state.withLock({ $0.error }) { throw error }
    }
}
