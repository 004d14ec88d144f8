/// One rendition the engine will encode: the rung's rates at a concrete output size.
public struct PlannedRung: Sendable, Codable, Hashable {
    /// Folder and label: `720p`.
    public var name: String
    /// Output size: square pixels, even dimensions, the source's display aspect.
    public var width: Int
    public var height: Int
    public var videoBitrate: Int
    public var maxrate: Int
    public var bufsize: Int

    public init(name: String, width: Int, height: Int, videoBitrate: Int, maxrate: Int, bufsize: Int) {
        self.name = name
        self.width = width
        self.height = height
        self.videoBitrate = videoBitrate
        self.maxrate = maxrate
        self.bufsize = bufsize
    }
}

/// Turns the configured ladder into the renditions a given source gets.
public enum LadderPlanner {
    /// Keeps the rungs at or below the source's display height (after rotation), highest first; never
    /// upscales. A source smaller than the lowest rung gets one rung at its own size, with that rung's rates
    /// scaled down by pixel count (at most 4x less). Widths keep the display aspect with square pixels and
    /// are even; heights are even (an odd source height is rounded down).
    public static func plan(_ info: MediaInfo, ladder: [Rung]) -> [PlannedRung] {
        plan(displayWidth: info.video.displayWidth, displayHeight: info.video.displayHeight, ladder: ladder)
    }

    /// ``plan(_:ladder:)`` from a display size (square pixels, after rotation).
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
