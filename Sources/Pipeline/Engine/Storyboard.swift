import Foundation

/// The storyboard's shape (`storyboard.vtt` pointing into `storyboard_01.jpg`, ...): a tile every ``interval``
/// seconds, 160 px wide, 10 x 10 tiles a sheet.
struct Storyboard: Sendable, Hashable {
    /// Most tiles one package gets: a longer source gets a wider interval.
    static let maxTiles = 400
    static let tileWidth = 160
    /// Tiles per row and rows per sheet (100 tiles a sheet, so at most 4 sheets).
    static let columns = 10
    static let rows = 10
    static let vttName = "storyboard.vtt"

    /// Seconds between cues.
    var interval: Double

    /// The interval for a package of `duration` seconds: `seconds`, widened to whole seconds so that there are at
    /// most ``maxTiles`` tiles (unknown duration, 0: `seconds`).
    static func interval(seconds: Int, duration: Double) -> Double {
        let wanted = Double(max(1, seconds))
        guard duration > 0, duration.isFinite else { return wanted }
        return max(wanted, (duration / Double(maxTiles)).rounded(.up))
    }

    /// Cues a package of `duration` seconds has: one per started interval.
    func cueCount(duration: Double) -> Int {
        guard duration > 0, interval > 0 else { return 0 }
        return max(1, Int((duration / interval - 1e-6).rounded(.up)))
    }

    /// The name of sheet `index` (0-based): `storyboard_01.jpg`.
    static func sheetName(_ index: Int) -> String { String(format: "storyboard_%02d.jpg", index + 1) }

    /// Tallest tile: a stranger's 16x4320 picture must not make a sheet taller than a JPEG may be (65535).
    static let maxTileHeight = 4 * tileWidth

    /// The tile height for pictures of `width`x`height` (square pixels): the display aspect at ``tileWidth``, even,
    /// at most ``maxTileHeight``.
    static func tileHeight(width: Int, height: Int) -> Int {
        min(maxTileHeight, max(2, Int((Double(tileWidth) * Double(height) / Double(max(1, width)) / 2).rounded()) * 2))
    }

    /// `storyboard.vtt` for `duration` seconds of tiles `tileHeight` high: cue k from k x interval to the next (the
    /// last to `duration`), its text `storyboard_NN.jpg#xywh=x,y,w,h`.
    func vtt(duration: Double, tileHeight: Int) -> String {
        var out = "WEBVTT\n"
        let perSheet = Self.columns * Self.rows
        for k in 0..<cueCount(duration: duration) {
            let start = Double(k) * interval, end = min(Double(k + 1) * interval, duration)
            let cell = k % perSheet
            let x = (cell % Self.columns) * Self.tileWidth, y = (cell / Self.columns) * tileHeight
            out += "\n\(Self.timestamp(start)) --> \(Self.timestamp(end))\n"
            out += "\(Self.sheetName(k / perSheet))#xywh=\(x),\(y),\(Self.tileWidth),\(tileHeight)\n"
        }
        return out
    }

    /// `HH:MM:SS.mmm`.
    static func timestamp(_ seconds: Double) -> String {
        let ms = Int64((max(0, seconds) * 1000).rounded())
        return String(format: "%02lld:%02lld:%02lld.%03lld", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
}
