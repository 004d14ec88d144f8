import Foundation

/// When one fMP4 segment's samples of a track start and how long they last: its first `tfdt` and the sum of its
/// `trun` sample durations (ISO/IEC 14496-12 8.8), over every fragment in the file (a folded tail is two).
///
/// Only the `moof` boxes are read (the `mdat`s are skipped by seeking), each at most 16 MiB; a damaged file yields an
/// error or nil, never a read out of range.
struct FragmentTiming {
    /// Decode time of the first sample, in the track's timescale.
    var start: UInt64
    var duration: UInt64

    /// The timing of `track` in the segment at `url`; nil when no fragment of the file carries the track.
    /// - Throws: when the file cannot be read.
    static func read(_ url: URL, track: FragmentKeyframes.Track) throws -> FragmentTiming? {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        var offset: UInt64 = 0
        var timing: FragmentTiming?
        while offset + 8 <= end {
            try handle.seek(toOffset: offset)
            let head = [UInt8](try handle.read(upToCount: 16) ?? Data())
            guard head.count >= 8 else { break }
            var size = UInt64(Box.u32(head, 0))
            if size == 1 {
                guard head.count >= 16 else { break }
                size = Box.u64(head, 8)
            } else if size == 0 {
                size = end - offset
            }
            guard size >= 8, size <= end - offset else { break }
            if Box.type(head, 4) == "moof", size <= 16 << 20 {
                try handle.seek(toOffset: offset)
                let moof = [UInt8](try handle.read(upToCount: Int(size)) ?? Data())
                for box in Box.children(moof, 0..<moof.count) where box.type == "moof" {
                    for traf in Box.children(moof, box.body) where traf.type == "traf" {
                        guard let t = fragment(moof, traf: traf, track: track) else { continue }
                        if timing == nil { timing = FragmentTiming(start: t.start, duration: 0) }
                        timing?.duration += t.duration
                    }
                }
            }
            offset += size
        }
        return timing
    }

    /// `traf`'s `tfdt` and the sum of its samples' durations, when it is `track`'s.
    private static func fragment(_ b: [UInt8], traf: Box, track: FragmentKeyframes.Track) -> FragmentTiming? {
        var defaultDuration = UInt64(track.defaultDuration)
        var timing: FragmentTiming?
        for box in Box.children(b, traf.body) {
            let p = box.body.lowerBound
            switch box.type {
            case "tfhd" where box.body.count >= 8:
                guard Box.u32(b, p + 4) == track.id else { return nil }
                let f = Box.u32(b, p) & 0xFFFFFF
                let i = p + 8 + (f & 0x1 != 0 ? 8 : 0) + (f & 0x2 != 0 ? 4 : 0)
                if f & 0x8 != 0, i + 4 <= box.end { defaultDuration = UInt64(Box.u32(b, i)) }
                timing = FragmentTiming(start: 0, duration: 0)
            case "tfdt" where box.body.count >= 8 && timing != nil:
                timing?.start = Box.decodeTime(b, tfdt: box)
            case "trun" where box.body.count >= 8 && timing != nil:
                let f = Box.u32(b, p) & 0xFFFFFF
                let count = Int(Box.u32(b, p + 4))
                var i = p + 8 + (f & 0x1 != 0 ? 4 : 0) + (f & 0x4 != 0 ? 4 : 0)
                guard f & 0x100 != 0 else {
                    timing?.duration &+= UInt64(count) &* defaultDuration
                    continue
                }
                let stride = [0x100, 0x200, 0x400, 0x800].filter { f & UInt32($0) != 0 }.count * 4
                guard count >= 0, i + count * stride <= box.end else { return nil }
                for _ in 0..<count {
                    timing?.duration &+= UInt64(Box.u32(b, i))
                    i += stride
                }
            default:
                continue
            }
        }
        return timing
    }
}
