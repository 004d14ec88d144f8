import Foundation
import TestSupport
import Testing

/// Broken files never crash or hang: exit 1 with one line naming the file, and nothing left behind — or,
/// for recoverable damage, a clean package.
@Suite("Engine bad input")
struct EngineBadInputTests {
    enum Broken: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case truncatedMoovAtEnd, truncatedFaststart, randomBytes, textRenamedMov, empty, audioOnly

        var testDescription: String { rawValue }

        /// Makes the file and returns it with a phrase the error line must contain.
        func make(in dir: URL) async throws -> (URL, String) {
            let good = dir.appendingPathComponent("good.mp4")
            switch self {
            case .truncatedMoovAtEnd:
                try await Fixtures.clip(good, seconds: 2, width: 320, height: 180)
                let data = try Data(contentsOf: good)
                let url = dir.appendingPathComponent("broken.mp4")
                try data.prefix(data.count / 2).write(to: url)
                return (url, "broken.mp4: no video stream found (moov atom missing?)")
            case .truncatedFaststart:
                try await Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2", "-c:v", "libx264",
                                     "-preset", "ultrafast", "-movflags", "+faststart", good.path])
                let data = try Data(contentsOf: good)
                let url = dir.appendingPathComponent("cut short.mp4")
                try data.prefix(data.count / 2).write(to: url)
                return (url, "cut short.mp4: only")
            case .randomBytes:
                let url = dir.appendingPathComponent("random.mp4")
                var generator = SystemRandomNumberGenerator()
                try Data((0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: url)
                return (url, "random.mp4: ")
            case .textRenamedMov:
                let url = dir.appendingPathComponent("notes.mov")
                try String(repeating: "this is a text file, not a video\n", count: 300).write(to: url, atomically: true, encoding: .utf8)
                return (url, "notes.mov: ")
            case .empty:
                let url = dir.appendingPathComponent("empty.mp4")
                try Data().write(to: url)
                return (url, "empty.mp4: empty file")
            case .audioOnly:
                let url = dir.appendingPathComponent("song.m4a")
                try await Fixtures.ffmpeg(["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", url.path])
                return (url, "song.m4a: no video stream found (audio-only")
            }
        }
    }

    @Test("exits 1 with one line naming the file; no package, no work dir", arguments: Broken.allCases)
    func broken(_ kind: Broken) async throws {
        try await withTemporaryDirectory { dir in
            let (file, phrase) = try await kind.make(in: dir)
            let out = dir.appendingPathComponent("out/pkg")
            let r = try await watchfolder("transcode", file.path, "--out", out.path, timeout: 60)
            #expect(r.status == 1, "\(kind): status \(r.status) \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "one line: \(r.stderr)")
            #expect(r.stderr.contains(phrase), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("master.m3u8").path))
            let parent = (try? FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)) ?? []
            #expect(parent.isEmpty, "work directory left behind: \(parent)")

            let probe = try await watchfolder("probe", file.path, timeout: 60)
            if kind != .truncatedFaststart {  // its header is intact; only the data is missing
                #expect(probe.status == 1 && probe.stderr.split(separator: "\n").count == 1, "probe: \(probe.stderr)")
            }
        }
    }

    @Test("a transport stream with corrupted packets gives a clean package")
    func corruptedPackets() async throws {
        try await withTemporaryDirectory { dir in
            let ts = dir.appendingPathComponent("damaged.ts")
            try await Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
                                 "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", ts.path])
            var bytes = [UInt8](try Data(contentsOf: ts))
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<40 {  // 40 runs of garbage in the middle of the file
                let at = Int.random(in: 20_000..<(bytes.count - 2_000), using: &rng)
                for k in at..<(at + 100) { bytes[k] = UInt8.random(in: 0...255, using: &rng) }
            }
            try Data(bytes).write(to: ts)
            let out = dir.appendingPathComponent("pkg")
            let r = try await watchfolder("transcode", ts.path, "--out", out.path, timeout: 60)
            if r.status == 0 {
                let play = try await tool("ffmpeg", ["-v", "error", "-i", out.appendingPathComponent("master.m3u8").path, "-f", "null", "-"])
                #expect(play.status == 0 && play.stderr.isEmpty, "the package plays cleanly: \(play.stderr)")
            } else {
                #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("damaged.ts: "), "\(r.stderr)")
                #expect(!FileManager.default.fileExists(atPath: out.path))
            }
        }
    }
}
