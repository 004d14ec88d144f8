import Synchronization

/// A flag shared by the transfers of one upload; once set, running transfers abort and no new one starts.
final class CurlCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
    func cancel() { flag.store(true, ordering: .relaxed) }
}
