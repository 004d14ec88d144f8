/// Closes timestamp jumps of one stream before its filter graph: a gap longer than `maxGap` (forward or
/// backward: a discontinuity in a broadcast recording, a crafted file) is removed by shifting every later
/// timestamp, so the output continues from the next frame instead of filling the gap with repeated frames
/// (video) or silence (audio). Shorter gaps are left to the graph, which fills them (constant frame rate).
///
/// The timeline starts at 0: a stream that begins more than `maxGap` after the file's start is moved to 0 too.
/// Each stream has its own mender; streams that jump together stay in sync within a frame.
struct TimelineMender {
    /// In the stream's time base.
    let maxGap: Int64
    private var shift: Int64 = 0
    /// Where the next frame should start (the end of the latest frame so far).
    private var expected: Int64 = 0
    /// Forward time removed so far, in the stream's time base.
    private(set) var closed: Int64 = 0
    /// Jumps closed so far.
    private(set) var jumps = 0

    init(maxGap: Int64) { self.maxGap = max(1, maxGap) }

    /// The mended timestamp of a frame at `pts` lasting `duration`.
    mutating func mend(_ pts: Int64, duration: Int64) -> Int64 {
        var t = pts &- shift
        let jump = t &- expected
        if jump > maxGap || jump < -maxGap {
            shift = shift &+ jump
            if jump > 0 { closed = closed &+ jump }
            jumps += 1
            t = expected
        }
        expected = max(expected, t &+ max(0, duration))
        return t
    }
}
