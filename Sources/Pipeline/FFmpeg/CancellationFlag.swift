import CAV
import Synchronization

/// A flag set from a Swift task's cancellation handler and read by the blocking libav loop, both between
/// packets and from libav's `AVIOInterruptCB` (so blocking I/O returns `AVERROR_EXIT` too).
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isCancelled: Bool { flag.load(ordering: .relaxed) }

    func cancel() { flag.store(true, ordering: .relaxed) }

    /// An interrupt callback for `AVFormatContext.interrupt_callback`; valid while `self` is alive.
    var interruptCallback: AVIOInterruptCB {
        AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                return Unmanaged<CancellationFlag>.fromOpaque(opaque).takeUnretainedValue().isCancelled ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(self).toOpaque()
        )
    }
}
