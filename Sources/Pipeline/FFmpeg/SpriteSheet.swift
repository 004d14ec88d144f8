import CAV
import Foundation

/// A sprite sheet of equal tiles laid out left to right, top to bottom (`columns` per row), written as one JPEG.
///
/// Tiles are scaled to the tile size as they are added; the sheet is composed when written, as wide as the tiles
/// it holds need (at most `columns`) and as tall as its rows, cells past the last tile black.
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class SpriteSheet {
    let tileWidth: Int
    let tileHeight: Int
    let columns: Int
    private var tiles: [Frame] = []

    /// - Parameters:
    ///   - tileWidth: even (the chroma of yuvj420p is half the size).
    ///   - tileHeight: even.
    ///   - columns: tiles per row.
    init(tileWidth: Int, tileHeight: Int, columns: Int) {
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.columns = max(1, columns)
    }

    /// Tiles added since the sheet was last written.
    var count: Int { tiles.count }

    /// Scales `frame` into the next cell.
    /// - Throws: ``MediaError`` from swscale.
    func add(_ frame: Frame) throws(MediaError) {
        tiles.append(try JPEGWriter.scaled(frame, width: tileWidth, height: tileHeight))
    }

    /// Composes the tiles added so far into one picture, writes it as a JPEG to `path`, and empties the sheet.
    /// - Throws: ``MediaError`` from the allocation, the mjpeg encoder or the file write.
    func write(to path: String) throws(MediaError) {
        guard !tiles.isEmpty else { return }
        let cols = min(columns, tiles.count), rows = (tiles.count + columns - 1) / columns
        let sheet = try Frame.picture(width: cols * tileWidth, height: rows * tileHeight, format: AV_PIX_FMT_YUVJ420P,
                                      stage: "storyboard")
        let s = sheet.raw.pointee
        let planes = [(s.data.0, s.linesize.0, 1, UInt8(0)), (s.data.1, s.linesize.1, 2, UInt8(128)),
                      (s.data.2, s.linesize.2, 2, UInt8(128))]
        for (data, linesize, div, black) in planes {
            guard let data else { continue }
            memset(data, Int32(black), Int(linesize) * sheet.height / div)
        }
        for (i, tile) in tiles.enumerated() {
            let t = tile.raw.pointee
            let source = [(t.data.0, t.linesize.0), (t.data.1, t.linesize.1), (t.data.2, t.linesize.2)]
            for p in 0..<3 {
                guard let dst = planes[p].0, let src = source[p].0 else { continue }
                let div = planes[p].2
                let w = tileWidth / div, h = tileHeight / div
                let x0 = (i % columns) * w, y0 = (i / columns) * h
                for y in 0..<h {
                    memcpy(dst + (y0 + y) * Int(planes[p].1) + x0, src + y * Int(source[p].1), w)
                }
            }
        }
        tiles.removeAll()
        try JPEGWriter.encode(sheet, to: path)
    }
}
