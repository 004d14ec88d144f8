/// One rendition the engine will encode: the rung's rates at a concrete output size.
public struct PlannedRung: Sendable, Codable, Hashable {
    /// Folder and label: `720p`; `720p-hlg` / `720p-pq` for an HEVC rung that keeps the source's HDR.
    public var name: String
    /// Output size: square pixels, even dimensions, the source's display aspect.
    public var width: Int
    public var height: Int
    public var videoBitrate: Int
    public var maxrate: Int
    public var bufsize: Int
    /// `SDR`: H.264 (8-bit, BT.709); `PQ` or `HLG`: HEVC Main10 keeping the source's HDR (`hdr = "keep"`).
    public var videoRange: VideoRange

    public init(name: String, width: Int, height: Int, videoBitrate: Int, maxrate: Int, bufsize: Int,
                videoRange: VideoRange = .sdr) {
        self.name = name
        self.width = width
        self.height = height
        self.videoBitrate = videoBitrate
        self.maxrate = maxrate
        self.bufsize = bufsize
        self.videoRange = videoRange
    }

    /// True for an HEVC Main10 rung that keeps the source's HDR.
    public var keepsHDR: Bool { videoRange != .sdr }
}

/// Turns the configured ladder into the renditions a given source gets.
public enum LadderPlanner {
    /// Lowest rung height that gets an HEVC HDR twin with `hdr = "keep"`.
    public static let minimumHDRHeight = 720

    /// The SDR ladder (``plan(displayWidth:displayHeight:ladder:)``) and, with `hdr = "keep"` and a PQ or HLG source
    /// (Dolby Vision profile 8 counts by its base layer), an HEVC Main10 rung beside every SDR rung of 720 lines and
    /// up, at the same size and rates, keeping the source's HDR. SDR rungs come first.
    public static func plan(_ info: MediaInfo, ladder: [Rung], hdr: HDRMode = .tonemap) -> [PlannedRung] {
        let sdr = plan(displayWidth: info.video.displayWidth, displayHeight: info.video.displayHeight, ladder: ladder)
        guard hdr == .keep, let range = info.video.colour.flatMap({ VideoRange(keeping: $0.hdr) }) else { return sdr }
        return sdr + sdr.filter { $0.height >= minimumHDRHeight }.map { rung in
            var kept = rung
            kept.name += "-" + range.rawValue.lowercased()
            kept.videoRange = range
            return kept
        }
    }

    /// What the ladder does with the source's colour, for `watchfolder probe` and `manifest.json`: the colour's own
    /// plan for the H.264 ladder, then the HEVC rungs that keep its HDR, or why there are none.
    public static func colourPlan(_ colour: MediaInfo.Colour, rungs: [PlannedRung], hdr: HDRMode) -> String {
        guard hdr == .keep, let range = VideoRange(keeping: colour.hdr) else { return colour.ladder }
        let kept = rungs.filter(\.keepsHDR).map(\.name)
        let primaries = colour.primaries == "bt2020" ? "BT.2020" : colour.primaries
        return colour.ladder + (kept.isEmpty
            ? "; no HEVC \(range.rawValue) rung (hdr = \"keep\" keeps HDR at \(minimumHDRHeight)p and up only)"
            : "; \(range.rawValue) kept in HEVC Main10 (10-bit, \(primaries)): \(kept.joined(separator: ", "))")
    }

    /// Keeps the rungs at or below the source's display height (after rotation), highest first; never
    /// upscales. A source smaller than the lowest rung gets one rung at its own size, with that rung's rates
    /// scaled down by pixel count (at most 4x less). Widths keep the display aspect with square pixels and
    /// are even; heights are even (an odd source height is rounded down).
    public static func plan(displayWidth: Int, displayHeight: Int, ladder: [Rung]) -> [PlannedRung] {
        let dw = max(displayWidth, 2), dh = max(displayHeight, 2)
        let sorted = ladder.sorted { $0.height > $1.height }
        var out: [PlannedRung] = []
        for rung in sorted where rung.height <= dh {
            let h = even(rung.height)
            guard !out.contains(where: { $0.height == h }) else { continue }
            out.append(PlannedRung(name: "\(h)p", width: width(for: h, dw: dw, dh: dh), height: h,
                                   videoBitrate: rung.videoBitrate, maxrate: rung.maxrate, bufsize: rung.bufsize))
        }
        if out.isEmpty, let lowest = sorted.last {
            let h = even(dh)
            let scale = max(0.25, min(1, Double(h * h) / Double(lowest.height * lowest.height)))
            func s(_ v: Int) -> Int { Int((Double(v) * scale).rounded()) }
            out.append(PlannedRung(name: "\(h)p", width: width(for: h, dw: dw, dh: dh), height: h,
                                   videoBitrate: s(lowest.videoBitrate), maxrate: s(lowest.maxrate), bufsize: s(lowest.bufsize)))
        }
        return out
    }

    /// The even width that keeps `dw:dh` at height `h`.
    static func width(for h: Int, dw: Int, dh: Int) -> Int {
        let exact = Double(h) * Double(dw) / Double(dh)
        return max(2, Int((exact / 2).rounded()) * 2)
    }

    static func even(_ v: Int) -> Int { max(2, v - v % 2) }
}
