import Foundation

/// Finds the keyframes of an MPEG-TS segment the `hls` muxer wrote: the video PES packets whose first TS packet carries
/// the random-access indicator (libavformat's `mpegts` muxer sets it on every key packet).
///
/// Parsed defensively, with bounds: the segments are our own output, but a short or damaged file yields an error or
/// fewer keyframes, never a read out of range.
struct TransportStreamKeyframes {
    /// One keyframe: the bytes from its first TS packet through the last packet of its PES (interleaved audio
    /// packets in between included), and its presentation time (90 kHz).
    struct Keyframe {
        var offset: Int
        var length: Int
        var pts: Int64
    }

    static let packetSize = 188
    /// The leading PSI packets (SDT, PAT, PMT) before the first elementary-stream packet, in bytes: what an
    /// `#EXT-X-MAP` must give a player that starts inside the stream.
    private(set) var psiBytes = 0
    private(set) var keyframes: [Keyframe] = []

    /// Scans `bytes`, one whole segment.
    /// - Throws: ``PipelineError`` when the file is not a sequence of 188-byte packets with a PAT and a PMT naming a
    ///   video stream.
    init(bytes: [UInt8], file: String) throws(PipelineError) {
        var pmtPID: Int?
        var videoPID: Int?
        var open: Keyframe?  // the keyframe whose PES is still being read
        var leadingPSI = true
        var offset = 0
        while offset + Self.packetSize <= bytes.count {
            let p = offset
            guard bytes[p] == 0x47 else { throw PipelineError(.media, file: file, "lost MPEG-TS sync at byte \(p)") }
            let pid = Int(bytes[p + 1] & 0x1F) << 8 | Int(bytes[p + 2])
            let unitStart = bytes[p + 1] & 0x40 != 0
            let control = (bytes[p + 3] >> 4) & 0x3
            var payload = p + 4
            var randomAccess = false
            if control & 0x2 != 0 {
                let adaptation = Int(bytes[p + 4])
                randomAccess = adaptation > 0 && bytes[p + 5] & 0x40 != 0
                payload = p + 5 + adaptation
            }
            let end = p + Self.packetSize
            let hasPayload = control & 0x1 != 0 && payload < end
            let isPSI = pid == 0 || pid == 0x11 || pid == pmtPID
            if leadingPSI {
                if isPSI { psiBytes = end } else { leadingPSI = false }
            }
            if pid == 0, unitStart, hasPayload, pmtPID == nil {
                pmtPID = Self.programMapPID(bytes, payload: payload, end: end)
            } else if pid == pmtPID, unitStart, hasPayload, videoPID == nil {
                videoPID = Self.videoPID(bytes, payload: payload, end: end)
            } else if pid == videoPID {
                if unitStart {
                    if let k = open { keyframes.append(k) }
                    open = nil
                    if randomAccess, hasPayload, let pts = Self.pts(bytes, payload: payload, end: end) {
                        open = Keyframe(offset: p, length: Self.packetSize, pts: pts)
                    }
                } else if let k = open {
                    open?.length = end - k.offset
                }
            }
            offset = end
        }
        if let k = open { keyframes.append(k) }
        guard videoPID != nil else { throw PipelineError(.media, file: file, "no PAT/PMT naming a video stream") }
    }

    /// The first program's PMT PID in the PAT section starting at `payload` (after its pointer field).
    private static func programMapPID(_ b: [UInt8], payload: Int, end: Int) -> Int? {
        let s = payload + 1 + Int(b[payload])
        guard s + 8 <= end, b[s] == 0x00 else { return nil }
        let sectionEnd = min(end, s + 3 + (Int(b[s + 1] & 0x0F) << 8 | Int(b[s + 2])) - 4)  // minus the CRC
        var i = s + 8
        while i + 4 <= sectionEnd {
            let program = Int(b[i]) << 8 | Int(b[i + 1])
            if program != 0 { return Int(b[i + 2] & 0x1F) << 8 | Int(b[i + 3]) }
            i += 4
        }
        return nil
    }

    /// The first H.264, HEVC or MPEG-2 video elementary stream's PID in the PMT section at `payload`.
    private static func videoPID(_ b: [UInt8], payload: Int, end: Int) -> Int? {
        let s = payload + 1 + Int(b[payload])
        guard s + 12 <= end, b[s] == 0x02 else { return nil }
        let sectionEnd = min(end, s + 3 + (Int(b[s + 1] & 0x0F) << 8 | Int(b[s + 2])) - 4)
        var i = s + 12 + (Int(b[s + 10] & 0x0F) << 8 | Int(b[s + 11]))
        while i + 5 <= sectionEnd {
            let type = b[i]
            let pid = Int(b[i + 1] & 0x1F) << 8 | Int(b[i + 2])
            if type == 0x1B || type == 0x24 || type == 0x02 { return pid }
            i += 5 + (Int(b[i + 3] & 0x0F) << 8 | Int(b[i + 4]))
        }
        return nil
    }

    /// The PTS of the PES header at `payload`, when it has one.
    private static func pts(_ b: [UInt8], payload: Int, end: Int) -> Int64? {
        let h = payload
        guard h + 14 <= end, b[h] == 0, b[h + 1] == 0, b[h + 2] == 1, b[h + 7] & 0x80 != 0 else { return nil }
        let t = h + 9
        return Int64(b[t] & 0x0E) << 29 | Int64(b[t + 1]) << 22 | Int64(b[t + 2] & 0xFE) << 14
            | Int64(b[t + 3]) << 7 | Int64(b[t + 4]) >> 1
    }
}
