import ArgumentParser
import Foundation
import Pipeline
import WatchFolder

/// The terminal progress bar and JSON progress lines.
enum ProgressBar {
    static func draw(_ p: TranscodeProgress) {
        let width = 30
        let filled = Int((p.fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let eta = p.eta.map { String(format: "ETA %d:%02d", Int($0) / 60, Int($0) % 60) } ?? "ETA --:--"
        let line = String(format: "\r[%@] %3d%%  %.2fx  %@ ", bar, Int(p.fraction * 100), p.speed, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func finish(_ m: PackageManifest) {
        draw(TranscodeProgress(fraction: 1, mediaSeconds: m.durationSeconds, speed: m.timings.speed, eta: 0))
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func json(_ p: TranscodeProgress) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(p) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
