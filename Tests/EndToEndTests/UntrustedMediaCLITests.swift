import Foundation
import TestSupport
import Testing

/// `watchfolder probe` and `transcode` on files that are not what their names say, or cost more than allowed.
@Suite("Untrusted media: CLI")
struct UntrustedMediaCLITests {
    @Test("playlists and manifests in disguise are refused in one line; the file they name is not read",
          arguments: Disguise.allCases)
    func disguises(_ disguise: Disguise) async throws {
        try await withTemporaryDirectory { dir in
            let named = dir.appendingPathComponent("named")
            let uploads = dir.appendingPathComponent("uploads")
            for d in [named, uploads] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
            let target = named.appendingPathComponent("other.mp4")
            try await Fixtures.clip(target, seconds: 1, width: 320, height: 180)
            let file = try disguise.write(in: uploads, target: target, relative: "../named/other.mp4")
            let untouchable = try Untouchable(target)
            let config = try writeConfig(in: dir, extra: "[limits]\nprobe_seconds = 5\n")

            // Refused for what it is (not at the deadline, which would say so): a live playlist does not wait.
            let probe = try await watchfolder("probe", file.path, "--config", config.path, timeout: 30)
            #expect(probe.status == 1 && probe.stderr == "watchfolder: \(disguise.refusal)\n", "\(probe.stderr)")
            let out = dir.appendingPathComponent("pkg")
            let transcode = try await watchfolder("transcode", file.path, "--out", out.path, "--config", config.path, timeout: 30)
            #expect(transcode.status == 1 && transcode.stderr == "watchfolder: \(disguise.refusal)\n", "\(transcode.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
            untouchable.expectUnread("\(disguise)")
        }
    }

    @Test("a symbolic link, a folder and a FIFO named on the command line are not read")
    func notRegularFiles() async throws {
        try await withTemporaryDirectory { dir in
            let clip = dir.appendingPathComponent("clip.mp4")
            try await Fixtures.clip(clip, seconds: 1, width: 320, height: 180)
            let untouchable = try Untouchable(clip)
            let link = dir.appendingPathComponent("link.mp4")
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: clip)
            let folder = dir.appendingPathComponent("folder.mp4")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let fifo = dir.appendingPathComponent("fifo.mp4")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            let expected = [
                link: "link.mp4: refused: a symbolic link on its path (links are not followed)",
                folder: "folder.mp4: not a regular file (a folder); it was not read",
                fifo: "fifo.mp4: not a regular file (a fifo); it was not read",
            ]
            for (url, line) in expected {
                let probe = try await watchfolder("probe", url.path, timeout: 30)
                #expect(probe.status == 1 && probe.stderr == "watchfolder: \(line)\n", "\(probe.stderr)")
                let t = try await watchfolder("transcode", url.path, "--out", dir.appendingPathComponent("pkg").path, timeout: 30)
                #expect(t.status == 1 && t.stderr == "watchfolder: \(line)\n", "\(t.stderr)")
            }
            untouchable.expectUnread("symlink")
        }
    }

    @Test("a timestamp jump of 200,000 s: done in seconds, bytes bounded, the package lasts what the pictures last")
    func timestampJump() async throws {
        try await withTemporaryDirectory { dir in
            // Two 2 s recordings, the second stamped 200,000 s later, back to back in one transport stream.
            let a = dir.appendingPathComponent("a.ts"), b = dir.appendingPathComponent("b.ts")
            let src = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
                       "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"]
            try await Fixtures.ffmpeg(src + [a.path])
            try await Fixtures.ffmpeg(src + ["-output_ts_offset", "200000", b.path])
            let jump = dir.appendingPathComponent("recording.ts")
            try (Data(contentsOf: a) + Data(contentsOf: b)).write(to: jump)
            let config = try engineTestConfig(in: dir)
            let out = dir.appendingPathComponent("pkg")
            let started = Date()
            let r = try await watchfolder("transcode", jump.path, "--out", out.path, "--config", config.path, timeout: 120)
            let elapsed = Date().timeIntervalSince(started)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(elapsed < 30, "took \(elapsed) s")
            let bytes = FileManager.default.enumerator(atPath: out.path)?.allObjects.compactMap { $0 as? String }
                .reduce(Int64(0)) { $0 + fileSize(out.appendingPathComponent($1)) } ?? 0
            #expect(bytes < 4 << 20, "package of \(bytes) bytes")
            for rung in ["360p", "240p"] where FileManager.default.fileExists(atPath: out.appendingPathComponent(rung).path) {
                let duration = try await FFprobe.duration(out.appendingPathComponent("\(rung)/index.m3u8").path)
                #expect(abs(duration - 4) < 0.3, "\(rung) lasts \(duration) s")
            }
            let play = try await tool("ffmpeg", ["-v", "error", "-i", out.appendingPathComponent("master.m3u8").path, "-f", "null", "-"])
            #expect(play.status == 0 && play.stderr.isEmpty, "\(play.stderr)")
        }
    }

    @Test("[limits] max_pixels refuses larger frames in probe and transcode")
    func pixelBound() async throws {
        try await withTemporaryDirectory { dir in
            let clip = dir.appendingPathComponent("big.mp4")
            try await Fixtures.clip(clip, seconds: 1, width: 640, height: 360)
            let config = try writeConfig(in: dir, extra: "[limits]\nmax_pixels = 230399\n")
            let line = "watchfolder: big.mp4: refused: frames of 640x360 pixels are larger than max_pixels (230399)\n"
            let probe = try await watchfolder("probe", clip.path, "--config", config.path)
            #expect(probe.status == 1 && probe.stderr == line, "\(probe.stderr)")
            let t = try await watchfolder("transcode", clip.path, "--out", dir.appendingPathComponent("pkg").path, "--config", config.path)
            #expect(t.status == 1 && t.stderr == line, "\(t.stderr)")
            let fine = try await watchfolder("probe", clip.path)
            #expect(fine.status == 0, "\(fine.stderr)")
        }
    }
}
