import Foundation
import Synchronization

/// Bytes done so far, reported to the caller's progress callback.
final class ProgressCounter: Sendable {
    private let total = Atomic<Int64>(0)
    private let callback: (@Sendable (Int64) -> Void)?

    init(_ callback: (@Sendable (Int64) -> Void)?) { self.callback = callback }

    func add(_ bytes: Int64) {
        let now = total.add(bytes, ordering: .relaxed).newValue
        callback?(now)
    }
}
