import CAV
import Dispatch
import Synchronization

/// When the libav calls of one job must stop: the job was cancelled, a deadline passed (the probe), or decoding
/// made no progress for too long (a stall).
///
/// Set from other threads (a Swift task's cancellation handler); read between packets, from libav's
/// `AVIOInterruptCB` (so blocking I/O returns `AVERROR_EXIT`) and by ``DescriptorReader`` while it waits for a read.
final class Interrupter: Sendable {
    enum Reason: Sendable { case cancelled, deadline, stalled }

    private let cancelled = Atomic<Bool>(false)
    /// Monotonic nanoseconds; `.max` = none.
    private let deadline = Atomic<UInt64>(.max)
    private let lastProgress = Atomic<UInt64>(0)
    private let stallNanoseconds = Atomic<UInt64>(.max)
    /// A deadline or stall, once seen, stays: a read given up on must not look like the end of the file because a
    /// frame decoded afterwards (0 none, 1 deadline, 2 stalled).
    private let tripped = Atomic<UInt8>(0)

    init() {}

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Stops libav calls `seconds` from now (nil: no deadline).
    func setDeadline(seconds: Double?) {
        deadline.store(seconds.map { Self.now &+ Self.nanoseconds($0) } ?? .max, ordering: .relaxed)
    }

    /// From now on, `seconds` without ``progressed()`` is a stall (nil: never).
    func watchStalls(seconds: Double?) {
        lastProgress.store(Self.now, ordering: .relaxed)
        stallNanoseconds.store(seconds.map(Self.nanoseconds) ?? .max, ordering: .relaxed)
    }

    /// A frame was decoded.
    func progressed() { lastProgress.store(Self.now, ordering: .relaxed) }

    /// - Throws: ``MediaError`` (stage `cancel`, `interrupted`) once the job must stop.
    func throwIfStopped() throws(MediaError) {
        if shouldStop { throw MediaError(stage: "cancel", call: "transcode", code: AVStatus.exit, message: "interrupted") }
    }

    /// Why libav must stop now, or nil.
    var reason: Reason? {
        if isCancelled { return .cancelled }
        switch tripped.load(ordering: .relaxed) {
        case 1: return .deadline
        case 2: return .stalled
        default: break
        }
        let now = Self.now
        if now > deadline.load(ordering: .relaxed) {
            tripped.store(1, ordering: .relaxed)
            return .deadline
        }
        let stall = stallNanoseconds.load(ordering: .relaxed)
        if stall != .max, now &- lastProgress.load(ordering: .relaxed) > stall {
            tripped.store(2, ordering: .relaxed)
            return .stalled
        }
        return nil
    }

    var shouldStop: Bool { reason != nil }

    /// An interrupt callback for `AVFormatContext.interrupt_callback`; valid while `self` is alive.
    var interruptCallback: AVIOInterruptCB {
        AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                return Unmanaged<Interrupter>.fromOpaque(opaque).takeUnretainedValue().shouldStop ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(self).toOpaque()
        )
    }

    private static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    private static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds >= Double(UInt64.max / 2) / 1e9 ? UInt64.max / 2 : UInt64(max(0, seconds) * 1e9)
    }
}
