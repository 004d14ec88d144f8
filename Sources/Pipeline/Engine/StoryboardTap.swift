import Foundation

/// The storyboard, taken from the same `[thumb]` pictures as the thumbnails: cue k shows the first picture at or
/// after k x interval; cues past the last picture show the last one. Sheets are written as they fill, the last one
/// and `storyboard.vtt` by ``finish(duration:)``; every file counts against the output bound.
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class StoryboardTap {
    private let storyboard: Storyboard
    private let workDirectory: URL
    private let outputs: SessionOutputs
    private let last: Frame
    private var haveFrame = false
    private var sheet: SpriteSheet?
    private var taken = 0
    /// Written so far, relative to the work directory: the sheets, then `storyboard.vtt`.
    private(set) var files: [String] = []

    init(storyboard: Storyboard, workDirectory: URL, outputs: SessionOutputs) throws(MediaError) {
        self.storyboard = storyboard
        self.workDirectory = workDirectory
        self.outputs = outputs
        last = try Frame()
    }

    /// Takes `frame` (at `seconds`): a tile for every cue it is the first picture at or after.
    func take(_ frame: Frame, seconds: Double) throws(MediaError) {
        last.reference(frame)
        haveFrame = true
        while seconds >= Double(taken) * storyboard.interval - 1e-6 { try addTile() }
    }

    /// Fills the cues past the last picture with it, writes the last sheet and `storyboard.vtt` (cues to `duration`).
    func finish(duration: Double) throws(MediaError) {
        guard haveFrame else { return }
        while taken < storyboard.cueCount(duration: duration) { try addTile() }
        try writeSheet()
        let height = Storyboard.tileHeight(width: last.width, height: last.height)
        let url = workDirectory.appendingPathComponent(Storyboard.vttName)
        do {
            try storyboard.vtt(duration: duration, tileHeight: height).write(to: url, atomically: false, encoding: .utf8)
        } catch {
            throw MediaError(stage: "storyboard", call: "write(\(url.path))", errno: EIO, message: "\(error)")
        }
        outputs.count(fileAt: url)
        files.append(Storyboard.vttName)
    }

    private func addTile() throws(MediaError) {
        let sheet = self.sheet ?? SpriteSheet(tileWidth: Storyboard.tileWidth,
                                              tileHeight: Storyboard.tileHeight(width: last.width, height: last.height),
                                              columns: Storyboard.columns)
        self.sheet = sheet
        try sheet.add(last)
        taken += 1
        if sheet.count == Storyboard.columns * Storyboard.rows { try writeSheet() }
    }

    private func writeSheet() throws(MediaError) {
        guard let sheet, sheet.count > 0 else { return }
        let name = Storyboard.sheetName((taken - 1) / (Storyboard.columns * Storyboard.rows))
        let url = workDirectory.appendingPathComponent(name)
        try sheet.write(to: url.path)
        outputs.count(fileAt: url)
        files.append(name)
    }
}
