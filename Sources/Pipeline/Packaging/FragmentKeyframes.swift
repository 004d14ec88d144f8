import Foundation

/// Finds the keyframes of a fragmented-MP4 segment (ISO/IEC 14496-12) that a player can fetch alone: a sync sample that
/// opens its fragment's video run, addressed as the bytes from its `moof` through the end of that sample in the
/// `mdat`. libavformat's `hls` muxer writes one fragment per segment and our encoders put an IDR at every segment
/// start, so each segment yields one; a keyframe inside a fragment cannot be cut out without the samples before it and
/// is not listed.
///
/// Parsed defensively, with bounds: a short or damaged file yields an error or fewer keyframes, never a read out of range.
struct FragmentKeyframes {
    /// The video track as `init.mp4` describes it.
    struct Track {
        var id: UInt32
        var timescale: UInt32
        var defaultDuration: UInt32 = 0
        var defaultSize: UInt32 = 0
        var defaultFlags: UInt32 = 0
    }

    struct Keyframe {
        var offset: Int
        var length: Int
        /// Decode time, in the track's timescale.
        var time: UInt64
    }

    private(set) var keyframes: [Keyframe] = []

    /// The first video track (`hdlr` `vide`) in the `moov` of `initSegment`, with its `trex` defaults.
    static func videoTrack(initSegment b: [UInt8], file: String) throws(PipelineError) -> Track {
        guard let track = track(initSegment: b, handler: "vide") else {
            throw PipelineError(.media, file: file, "init segment without a video track")
        }
        return track
    }

    /// The first track whose `hdlr` is `handler` (`vide`, `soun`) in the `moov` of `initSegment`, with its `trex`
    /// defaults; nil when there is none.
    static func track(initSegment b: [UInt8], handler: String) -> Track? {
        for moov in Box.children(b, 0..<b.count) where moov.type == "moov" {
            var defaults: [UInt32: (UInt32, UInt32, UInt32)] = [:]
            for mvex in Box.children(b, moov.body) where mvex.type == "mvex" {
                for trex in Box.children(b, mvex.body) where trex.type == "trex" && trex.body.count >= 24 {
                    let p = trex.body.lowerBound
                    defaults[Box.u32(b, p + 4)] = (Box.u32(b, p + 12), Box.u32(b, p + 16), Box.u32(b, p + 20))
                }
            }
            for trak in Box.children(b, moov.body) where trak.type == "trak" {
                var id: UInt32?, timescale: UInt32?, matches = false
                for box in Box.children(b, trak.body) {
                    if box.type == "tkhd", box.body.count >= 24 {
                        id = Box.u32(b, box.body.lowerBound + (b[box.body.lowerBound] == 1 ? 20 : 12))
                    } else if box.type == "mdia" {
                        for m in Box.children(b, box.body) {
                            if m.type == "mdhd", m.body.count >= 24 {
                                timescale = Box.u32(b, m.body.lowerBound + (b[m.body.lowerBound] == 1 ? 20 : 12))
                            } else if m.type == "hdlr", m.body.count >= 12 {
                                matches = Box.type(b, m.body.lowerBound + 8) == handler
                            }
                        }
                    }
                }
                if matches, let id, let timescale, timescale > 0 {
                    var track = Track(id: id, timescale: timescale)
                    if let d = defaults[id] { (track.defaultDuration, track.defaultSize, track.defaultFlags) = d }
                    return track
                }
            }
        }
        return nil
    }

    /// Scans `b`, one whole segment (`styp`? `moof` `mdat`, possibly repeated), for `track`'s keyframes.
    init(segment b: [UInt8], track: Track) {
        for moof in Box.children(b, 0..<b.count) where moof.type == "moof" {
            for traf in Box.children(b, moof.body) where traf.type == "traf" {
                if let k = Self.openingKeyframe(b, moof: moof, traf: traf, track: track) { keyframes.append(k) }
            }
        }
    }

    /// The keyframe opening `traf`'s first `trun`, when `traf` is `track`'s and its first sample is a sync sample.
    private static func openingKeyframe(_ b: [UInt8], moof: Box, traf: Box, track: Track) -> Keyframe? {
        var base = moof.start  // default-base-is-moof (the muxer's `dash` flag), and the default for a first traf
        var size = track.defaultSize, flags = track.defaultFlags, time: UInt64 = 0
        var matched = false
        for box in Box.children(b, traf.body) {
            let p = box.body.lowerBound
            switch box.type {
            case "tfhd" where box.body.count >= 8:
                let f = Box.u32(b, p) & 0xFFFFFF
                let widths: [(UInt32, Int)] = [(0x1, 8), (0x2, 4), (0x8, 4), (0x10, 4), (0x20, 4)]
                guard box.body.count >= 8 + widths.reduce(0, { $0 + (f & $1.0 != 0 ? $1.1 : 0) }),
                      Box.u32(b, p + 4) == track.id else { return nil }
                matched = true
                var i = p + 8
                if f & 0x1 != 0 { base = Int(clamping: Box.u64(b, i)); i += 8 }
                if f & 0x2 != 0 { i += 4 }
                if f & 0x8 != 0 { i += 4 }
                if f & 0x10 != 0 { size = Box.u32(b, i); i += 4 }
                if f & 0x20 != 0 { flags = Box.u32(b, i) }
            case "tfdt" where box.body.count >= 8:
                time = Box.decodeTime(b, tfdt: box)
            case "trun" where matched && box.body.count >= 8:
                let f = Box.u32(b, p) & 0xFFFFFF
                let fields = [0x1, 0x4, 0x100, 0x200, 0x400, 0x800].filter { f & UInt32($0) != 0 }.count
                guard Box.u32(b, p + 4) > 0, box.body.count >= 8 + 4 * fields else { return nil }
                var i = p + 8
                var dataOffset = 0
                if f & 0x1 != 0 { dataOffset = Int(Int32(bitPattern: Box.u32(b, i))); i += 4 }
                if f & 0x4 != 0 { flags = Box.u32(b, i); i += 4 }
                if f & 0x100 != 0 { i += 4 }
                if f & 0x200 != 0 { size = Box.u32(b, i); i += 4 }
                if f & 0x400 != 0, f & 0x4 == 0 { flags = Box.u32(b, i) }
                guard flags & 0x10000 == 0 else { return nil }  // sample_is_non_sync_sample
                let (start, overflow) = base.addingReportingOverflow(dataOffset)
                guard !overflow, start >= moof.end, size > 0, Int(size) <= b.count - start else { return nil }
                return Keyframe(offset: moof.start, length: start + Int(size) - moof.start, time: time)
            default:
                continue
            }
        }
        return nil
    }
}

/// An ISO BMFF box inside a byte buffer: its type and the bytes of its header and body.
struct Box {
    var type: String
    var start: Int
    var body: Range<Int>
    var end: Int { body.upperBound }

    /// The boxes laid end to end in `range`; stops at the first one whose size does not fit.
    static func children(_ b: [UInt8], _ range: Range<Int>) -> [Box] {
        var boxes: [Box] = []
        var p = range.lowerBound
        while p + 8 <= range.upperBound {
            var size = Int(u32(b, p)), header = 8
            if size == 1 {
                guard p + 16 <= range.upperBound else { break }
                let large = u64(b, p + 8)
                guard large <= UInt64(range.upperBound - p) else { break }
                size = Int(large); header = 16
            } else if size == 0 {
                size = range.upperBound - p
            }
            guard size >= header, p + size <= range.upperBound else { break }
            boxes.append(Box(type: type(b, p + 4), start: p, body: (p + header)..<(p + size)))
            p += size
        }
        return boxes
    }

    /// Big-endian; the caller checked that `p + 4` is in bounds.
    static func u32(_ b: [UInt8], _ p: Int) -> UInt32 {
        UInt32(b[p]) << 24 | UInt32(b[p + 1]) << 16 | UInt32(b[p + 2]) << 8 | UInt32(b[p + 3])
    }

    static func u64(_ b: [UInt8], _ p: Int) -> UInt64 { UInt64(u32(b, p)) << 32 | UInt64(u32(b, p + 4)) }

    /// A `tfdt`'s base media decode time (version 1: 64 bits, else 32); the caller checked its body holds 8 bytes.
    static func decodeTime(_ b: [UInt8], tfdt box: Box) -> UInt64 {
        let p = box.body.lowerBound
        return b[p] == 1 && box.body.count >= 12 ? u64(b, p + 4) : UInt64(u32(b, p + 4))
    }

    static func type(_ b: [UInt8], _ p: Int) -> String { String(decoding: b[p..<(p + 4)], as: UTF8.self) }
}
