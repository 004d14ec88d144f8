import Foundation

/// The per-transfer state curl's C callbacks reach through their `void *` argument.
final class CurlTransfer {
    var fd: Int32 = -1
    var offset: Int64 = 0
    var remaining: Int64 = 0
    var bytes: [UInt8] = []
    var bytesSent = 0
    var response: [UInt8] = []
    var maxResponseBytes = 0
    var headers: [String: String] = [:]
    var readError: Int32 = 0
    let cancelled: CurlCancellation?
    /// Stall detection: bytes moved (both ways) at the last change, and when (monotonic seconds).
    var stallSeconds: Double = 30
    var lastBytes: Int64 = -1
    var lastChange: Double = 0
    var stalled = false

    /// Called from the progress callback: true when no byte has moved for `stallSeconds`.
    func checkStall(moved: Int64) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let seconds = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        if moved != lastBytes {
            lastBytes = moved
            lastChange = seconds
            return false
        }
        if seconds - lastChange > stallSeconds { stalled = true }
        return stalled
    }

    init(cancelled: CurlCancellation?) { self.cancelled = cancelled }
}
