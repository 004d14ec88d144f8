import Foundation
import Logging
@testable import Pipeline
import TestSupport
import Testing

@Suite("Storyboard")
struct StoryboardTests {
    @Test("the interval is storyboard_seconds, widened to whole seconds so a long source has at most 400 tiles")
    func widening() {
        #expect(Storyboard.interval(seconds: 5, duration: 60) == 5)
        #expect(Storyboard.interval(seconds: 5, duration: 2000) == 5)  // exactly 400 tiles
        #expect(Storyboard(interval: 5).cueCount(duration: 2000) == 400)
        #expect(Storyboard.interval(seconds: 5, duration: 2001) == 6)
        #expect(Storyboard(interval: 6).cueCount(duration: 2001) == 334)
        let twoHours = Storyboard.interval(seconds: 5, duration: 7200)
        #expect(twoHours == 18)
        #expect(Storyboard(interval: twoHours).cueCount(duration: 7200) == 400)
        let long = Storyboard.interval(seconds: 5, duration: 36_000.4)
        #expect(Storyboard(interval: long).cueCount(duration: 36_000.4) <= 400)
        #expect(Storyboard.interval(seconds: 30, duration: 7200) == 30)  // already few enough
        #expect(Storyboard.interval(seconds: 5, duration: 0) == 5)  // unknown duration
    }

    @Test("cues are exact, the last ends at the duration, and the 101st tile starts the second sheet")
    func cues() throws {
        let vtt = Storyboard(interval: 5).vtt(duration: 503.2, tileHeight: 90)
        let cues = try Self.parse(vtt)
        #expect(cues.count == 101)
        #expect(vtt.hasPrefix("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nstoryboard_01.jpg#xywh=0,0,160,90\n"))
        #expect(vtt.contains("\n00:00:05.000 --> 00:00:10.000\nstoryboard_01.jpg#xywh=160,0,160,90\n"))
        #expect(cues[99] == .init(start: 495, end: 500, sheet: "storyboard_01.jpg", x: 1440, y: 810, w: 160, h: 90))
        #expect(cues[100] == .init(start: 500, end: 503.2, sheet: "storyboard_02.jpg", x: 0, y: 0, w: 160, h: 90))
        #expect(Storyboard.timestamp(3723.5) == "01:02:03.500")
        #expect(Storyboard.tileHeight(width: 1920, height: 1080) == 90)
        #expect(Storyboard.tileHeight(width: 720, height: 1280) == 284)
        #expect(Storyboard.tileHeight(width: 16, height: 4320) == 640)  // a sheet stays within JPEG's 65535 lines
    }

    @Test("a colour-changing clip: cues every storyboard_seconds, tiles inside their sheet, each tile the picture at its cue")
    func package() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("colours.mp4")
            // red 0-2 s, green 2-4 s, blue 4-5.5 s
            try await PipelineFixtures.ffmpeg([
                "-filter_complex", "color=c=red:s=320x180:r=25:d=2[a];color=c=lime:s=320x180:r=25:d=2[b];"
                    + "color=c=blue:s=320x180:r=25:d=1.5[c];[a][b][c]concat=n=3:v=1:a=0,scale=out_color_matrix=bt709,format=yuv420p",
                "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", input.path])
            let options = TranscodeOptions(ladder: [Rung(height: 180, videoBitrate: 300_000)], preset: "ultrafast",
                                           segmentSeconds: 2, thumbnails: 2, storyboardSeconds: 2, hardware: .cpu)
            let (out, manifest) = try await FidelityTests.transcode(input, in: dir, options)
            #expect(manifest.storyboard == .init(vtt: "storyboard.vtt", sheets: ["storyboard_01.jpg"], intervalSeconds: 2))
            let vtt = try String(contentsOf: out.appendingPathComponent("storyboard.vtt"), encoding: .utf8)
            let cues = try Self.parse(vtt)
            #expect(cues.map(\.start) == [0, 2, 4])
            #expect(cues.map(\.end) == [2, 4, manifest.durationSeconds])
            #expect(abs(manifest.durationSeconds - 5.5) < 0.05)
            let size = try await FidelityTests.tool("ffprobe", [
                "-show_entries", "stream=width,height", "-of", "csv=p=0", out.appendingPathComponent("storyboard_01.jpg").path])
            #expect(size.trimmingCharacters(in: .whitespacesAndNewlines) == "480,90")
            let expected: [(Int, Int, Int)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
            for (cue, colour) in zip(cues, expected) {
                #expect(cue.sheet == "storyboard_01.jpg")
                #expect(cue.w == 160 && cue.h == 90)
                #expect(cue.x >= 0 && cue.y >= 0 && cue.x + cue.w <= 480 && cue.y + cue.h <= 90)
                let rgb = dir.appendingPathComponent("tile-\(cue.x).rgb")
                try await PipelineFixtures.ffmpeg(["-i", out.appendingPathComponent(cue.sheet).path, "-vf",
                                             "crop=\(cue.w):\(cue.h):\(cue.x):\(cue.y),scale=1:1:flags=area",
                                             "-f", "rawvideo", "-pix_fmt", "rgb24", rgb.path])
                let pixel = Array(try Data(contentsOf: rgb))
                #expect(pixel.count == 3)
                let near = zip(pixel, [colour.0, colour.1, colour.2]).allSatisfy { abs(Int($0) - $1) < 40 }
                #expect(near, "tile at \(cue.start) s is \(pixel), expected \(colour)")
            }
        }
    }

    struct Cue: Equatable {
        var start: Double, end: Double, sheet: String, x: Int, y: Int, w: Int, h: Int
    }

    /// Parses a storyboard WebVTT: the header, then blank-line separated cues `HH:MM:SS.mmm --> ...` + `sheet#xywh=`.
    static func parse(_ vtt: String) throws -> [Cue] {
        struct Malformed: Error { var text: String }
        var blocks = vtt.components(separatedBy: "\n\n")
        guard blocks.removeFirst() == "WEBVTT" else { throw Malformed(text: vtt) }
        func seconds(_ s: Substring) throws -> Double {
            let p = s.split(separator: ":")
            guard p.count == 3, let h = Double(p[0]), let m = Double(p[1]), let sec = Double(p[2]), p[2].count == 6 else {
                throw Malformed(text: String(s))
            }
            return h * 3600 + m * 60 + sec
        }
        return try blocks.map { block in
            let lines = block.split(separator: "\n")
            guard lines.count == 2 else { throw Malformed(text: block) }
            let times = lines[0].components(separatedBy: " --> ")
            let target = lines[1].split(separator: "#")
            guard times.count == 2, target.count == 2, target[1].hasPrefix("xywh=") else { throw Malformed(text: block) }
            let n = target[1].dropFirst(5).split(separator: ",").compactMap { Int($0) }
            guard n.count == 4 else { throw Malformed(text: block) }
            return Cue(start: try seconds(Substring(times[0])), end: try seconds(Substring(times[1])), sheet: String(target[0]),
                       x: n[0], y: n[1], w: n[2], h: n[3])
        }
    }
}
