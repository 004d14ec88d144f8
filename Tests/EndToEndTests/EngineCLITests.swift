import Foundation
import TestSupport
import Testing

/// `watchfolder transcode` and `watchfolder probe` as a user runs them.
@Suite("Engine CLI")
struct EngineCLITests {
    @Test("--progress json prints JSON lines on stdout ending at fraction 1")
    func jsonProgress() async throws {
        try await withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await Fixtures.clip(input, seconds: 2, width: 640, height: 360)
            let config = try engineTestConfig(in: dir)
            let r = try await watchfolder("transcode", input.path, "--out", dir.appendingPathComponent("pkg").path,
                                    "--config", config.path, "--progress", "json")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.isEmpty)
            let lines = r.stdout.split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["fraction"] is Double && object?["speed"] is Double && object?["mediaSeconds"] is Double, "\(line)")
            }
            let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any]
            #expect(last?["fraction"] as? Double == 1)
        }
    }

    @Test("on a terminal a progress bar with percent, speed and ETA is drawn")
    func progressBarOnTTY() async throws {
        try await withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await Fixtures.clip(input, seconds: 2, width: 640, height: 360)
            let config = try engineTestConfig(in: dir)
            let command = [watchfolderBinary.path, "transcode", input.path, "--out", dir.appendingPathComponent("pkg").path,
                           "--config", config.path].map { "'\($0)'" }.joined(separator: " ")
            // util-linux `script` gives the command a pseudo-terminal.
            let r = try await tool("script", ["-qec", command, "/dev/null"])
            #expect(r.status == 0, "\(r.stdout)")
            #expect(r.stdout.contains("100%"), "\(r.stdout)")
            #expect(r.stdout.contains("x  ETA"), "\(r.stdout)")
            #expect(r.stdout.contains("["), "\(r.stdout)")
        }
    }

    @Test("a named GPU that is missing is a config error (exit 2); an existing --out is refused")
    func usageErrors() async throws {
        try await withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await Fixtures.clip(input, seconds: 1, width: 320, height: 180)
            let gpu = try await watchfolder("transcode", input.path, "--out", dir.appendingPathComponent("a").path, "--hardware", "nvenc")
            // No GPU on the test machines: nvenc cannot open.
            #expect(gpu.status == 2, "\(gpu.stderr)")
            #expect(gpu.stderr.contains("h264_nvenc") && gpu.stderr.split(separator: "\n").count == 1, "\(gpu.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("a").path))

            let existing = dir.appendingPathComponent("b")
            try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
            let r = try await watchfolder("transcode", input.path, "--out", existing.path)
            #expect(r.status == 2 && r.stderr.contains("already exists"), "\(r.stderr)")

            let cpu = try await watchfolder("transcode", input.path, "--out", dir.appendingPathComponent("c").path, "--hardware", "cpu",
                                      "--preset", "ultrafast")
            #expect(cpu.status == 0, "\(cpu.stderr)")
            let manifest = try String(contentsOf: dir.appendingPathComponent("c/manifest.json"), encoding: .utf8)
            #expect(manifest.contains("\"encoder\" : \"libx264\""))
        }
    }

    @Test("probe shows what the engine sees, and the planned ladder")
    func probe() async throws {
        try await withTemporaryDirectory { dir in
            let phone = try await EngineCorpus.rotatedPhone.make(in: dir)
            let r = try await watchfolder("probe", phone.path, "--json")
            #expect(r.status == 0, "\(r.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let probe = try #require(object["probe"] as? [String: Any])
            let video = try #require(probe["video"] as? [String: Any])
            #expect(video["rotation"] as? Int == 90)
            #expect(video["displayWidth"] as? Int == 360 && video["displayHeight"] as? Int == 640)
            #expect(video["codec"] as? String == "h264")
            #expect(video["pixelFormat"] as? String == "yuv420p")
            #expect(video["bitDepth"] as? Int == 8)
            #expect(video["fieldOrder"] as? String == "progressive")
            #expect(video["variableFrameRate"] as? Bool == false)
            #expect((probe["audio"] as? [String: Any])?["layout"] as? String == "mono")
            let ladder = try #require(object["ladder"] as? [[String: Any]])
            #expect(ladder.map { $0["height"] as? Int } == [480, 360], "never above the 640-px display height")
            #expect(ladder.first?["width"] as? Int == 270)

            for degrees in [180, 270] {
                let rotated = dir.appendingPathComponent("rotated-\(degrees).mp4")
                try FileManager.default.copyItem(at: phone, to: rotated)
                try setDisplayRotation(rotated, degrees: degrees)
                let p = try await watchfolder("probe", rotated.path, "--json")
                let o = try #require(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any])
                let v = try #require((o["probe"] as? [String: Any])?["video"] as? [String: Any])
                #expect(v["rotation"] as? Int == degrees)
                #expect(v["displayHeight"] as? Int == (degrees == 180 ? 360 : 640), "\(degrees)°: \(v)")
            }

            let ts = try await EngineCorpus.interlacedMpeg2Ts.make(in: dir)
            let text = try await watchfolder("probe", ts.path)
            #expect(text.status == 0)
            for field in ["container:   mpegts", "mpeg2video", "interlaced", "SAR", "DAR", "frame rate:", "audio:", "ladder:"] {
                #expect(text.stdout.contains(field), "probe text lacks \(field): \(text.stdout)")
            }
        }
    }

    /// A 10-bit H.264 clip of the lavfi `source` tagged HLG (BT.2020, arib-std-b67).
    static func hlgClip(_ url: URL, _ source: String) async throws {
        let ffmpeg = try await tool("ffmpeg", [
            "-v", "error", "-f", "lavfi", "-i", source, "-pix_fmt", "yuv420p10le", "-c:v", "libx264", "-preset", "ultrafast",
            "-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc", url.path])
        #expect(ffmpeg.status == 0, "\(ffmpeg.stderr)")
    }

    @Test("probe shows the colour, HDR kind and what the ladder does with them, and slow motion's rate")
    func probeColour() async throws {
        try await withTemporaryDirectory { dir in
            let hlg = dir.appendingPathComponent("hlg.mp4")
            try await Self.hlgClip(hlg, "testsrc2=size=320x180:rate=120:duration=0.5")
            let text = try await watchfolder("probe", hlg.path)
            #expect(text.status == 0, "\(text.stderr)")
            for line in ["colour:      primaries bt2020, transfer arib-std-b67, matrix bt2020nc, range tv",
                         "dynamic:     HDR HLG", "colour plan: tone-mapped from HLG to SDR BT.709",
                         "frame rate:  60.000 fps (60:1), constant (source 120:1, played at half rate)"] {
                #expect(text.stdout.contains(line), "probe text lacks \(line): \(text.stdout)")
            }
            let sd = dir.appendingPathComponent("sd.mp4")
            _ = try await tool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.2",
                                          "-c:v", "libx264", "-preset", "ultrafast", sd.path])
            let r = try await watchfolder("probe", sd.path, "--json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let colour = try #require(((object["probe"] as? [String: Any])?["video"] as? [String: Any])?["colour"] as? [String: Any])
            #expect(colour["primaries"] as? String == "smpte170m" && colour["matrix"] as? String == "smpte170m")
            #expect(colour["range"] as? String == "tv" && colour["hdr"] as? String == "sdr" && colour["assumed"] as? Bool == true)
            #expect((colour["ladder"] as? String)?.contains("converted from BT.601") == true, "\(colour)")
        }
    }

    @Test("probe with a config saying hdr = \"keep\" lists the HEVC rungs that keep an HLG source's HDR, 720p and up")
    func probeKeep() async throws {
        try await withTemporaryDirectory { dir in
            let hlg = dir.appendingPathComponent("hlg.mp4"), small = dir.appendingPathComponent("small.mp4")
            try await Self.hlgClip(hlg, "testsrc2=size=1280x720:rate=25:duration=0.2")
            try await Self.hlgClip(small, "testsrc2=size=640x360:rate=25:duration=0.2")
            let config = try writeConfig(in: dir, extra: "[transcode]\nhdr = \"keep\"\n")
            let text = try await watchfolder("probe", hlg.path, "--config", config.path)
            #expect(text.status == 0, "\(text.stderr)")
            for line in ["colour plan: tone-mapped from HLG to SDR BT.709; HLG kept in HEVC Main10 (10-bit, BT.2020): 720p-hlg\n",
                         "ladder:      720p 1280x720 @ 2800k, 480p 854x480 @ 1400k, 360p 640x360 @ 800k, 720p-hlg 1280x720 @ 2800k (HEVC Main10 HLG)\n"] {
                #expect(text.stdout.contains(line), "probe text lacks \(line): \(text.stdout)")
            }
            let plain = try await watchfolder("probe", hlg.path)
            #expect(plain.status == 0 && !plain.stdout.contains("HEVC") && !plain.stdout.contains("-hlg"), "\(plain.stdout)")
            let r = try await watchfolder("probe", hlg.path, "--config", config.path, "--json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let ladder = try #require(object["ladder"] as? [[String: Any]])
            #expect(ladder.map { "\($0["name"] ?? "") \($0["videoRange"] ?? "")" } == ["720p SDR", "480p SDR", "360p SDR", "720p-hlg HLG"])

            // Under 720 lines: no HEVC rung, and the plan says why.
            let s = try await watchfolder("probe", small.path, "--config", config.path)
            #expect(s.stdout.contains("colour plan: tone-mapped from HLG to SDR BT.709; no HEVC HLG rung (hdr = \"keep\" keeps HDR at 720p and up only)\n")
                    && s.stdout.contains("ladder:      360p 640x360 @ 800k\n"), "\(s.stdout)")
        }
    }

    @Test("probe lists the audio renditions of a source with several audio streams, capped by the config's max_audio_tracks")
    func probeAudioRenditions() async throws {
        try await withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("three.mkv")
            _ = try await tool("ffmpeg", [
                "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=0.2",
                "-f", "lavfi", "-i", "sine=duration=0.2", "-map", "0", "-map", "1", "-map", "1", "-map", "1",
                "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-metadata:s:a:0", "language=eng",
                "-metadata:s:a:0", "title=Main mix", "-metadata:s:a:1", "language=fre", "-disposition:a:0", "0",
                "-disposition:a:1", "default", "-disposition:a:2", "0", input.path])
            let text = try await watchfolder("probe", input.path)
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains(#"audio renditions: audio_en "Main mix" (en, #1), audio_fr "French" (fr, #2, default), audio_und "Track 3" (und, #3)"# + "\n"),
                    "\(text.stdout)")
            let config = try writeConfig(in: dir, extra: "[transcode]\nmax_audio_tracks = 2\n")
            let r = try await watchfolder("probe", input.path, "--config", config.path, "--json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let tracks = try #require(object["audioRenditions"] as? [[String: Any]])
            #expect(tracks.map { "\($0["folder"] ?? "") \($0["language"] ?? "") \(($0["isDefault"] as? Bool) == true)" } == ["audio_en en false", "audio_fr fr true"])
            let capped = try await watchfolder("probe", input.path, "--config", config.path)
            #expect(capped.stdout.contains("; 1 more ignored (max_audio_tracks 2)\n"), "\(capped.stdout)")
        }
    }

    @Test("Ctrl-C cancels: exit 1, no package, no work directory")
    func interrupt() async throws {
        try await withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("long.mp4")
            try await Fixtures.clip(input, seconds: 20, width: 1280, height: 720)
            let process = ChildProcess()
            process.executableURL = watchfolderBinary
            process.arguments = ["transcode", input.path, "--out", dir.appendingPathComponent("out/pkg").path, "--preset", "medium",
                                 "--progress", "json"]
            process.standardError = FileHandle.nullDevice
            let stdout = Pipe()
            process.standardOutput = stdout
            try process.run()
            // Wait until it is really encoding: a progress line past 5 % of the media.
            let reader = stdout.fileHandleForReading
            var buffered = ""
            reading: while process.isRunning {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffered += String(decoding: chunk, as: UTF8.self)
                while let newline = buffered.firstIndex(of: "\n") {
                    let line = buffered[..<newline]
                    buffered = String(buffered[buffered.index(after: newline)...])
                    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    if let fraction = object?["fraction"] as? Double, fraction >= 0.05 { break reading }
                }
            }
            #expect(process.isRunning, "a 20 s 720p clip at preset medium finished before the interrupt")
            kill(process.processIdentifier, SIGINT)
            let start = Date()
            while process.isRunning && Date().timeIntervalSince(start) < 10 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(!process.isRunning)
            #expect(Date().timeIntervalSince(start) < 3, "stopped within a second or so (3 s allowed on a loaded machine)")
            #expect(process.terminationStatus == 1)
            let left = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)) ?? []
            #expect(left.isEmpty, "left behind: \(left)")
        }
    }
}
