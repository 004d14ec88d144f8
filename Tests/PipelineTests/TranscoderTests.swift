import Foundation
import Logging
import Pipeline
import Synchronization
import Testing

@Suite("Transcoder")
struct TranscoderTests {
    static let small = TranscodeOptions(ladder: [Rung(height: 180, videoBitrate: 300_000), Rung(height: 120, videoBitrate: 150_000)],
                                        preset: "ultrafast", segmentSeconds: 1, thumbnails: 4, hardware: .auto)

    @Test("a GPU encoder that fails is redone on libx264, and the manifest says so", arguments: ["h264_nvenc", "h264_vaapi"])
    func gpuFallback(gpu: String) async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await PipelineFixtures.clip(input, seconds: 1)
            // Selection believes the GPU probed fine; the real encoder cannot open here, so the job must fall back.
            let transcoder = Transcoder(logger: Logger(label: "test"), assumingGPUEncoders: [gpu])
            let out = dir.appendingPathComponent("pkg")
            let request = TranscodeRequest(input: input, outputDirectory: out, workDirectory: dir.appendingPathComponent("work"),
                                           options: Self.small)
            let manifest = try await transcoder.transcode(request)
            #expect(manifest.encoder == "libx264")
            #expect(manifest.fallbackReason?.hasPrefix("\(gpu): ") == true)
            if gpu == "h264_vaapi" {  // VA-API encodes surfaces: the device is opened before any encoder
                #expect(manifest.fallbackReason?.contains("av_hwdevice_ctx_create(vaapi)") == true)
            }
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("master.m3u8").path))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("work").path))
            let json = try String(contentsOf: out.appendingPathComponent("manifest.json"), encoding: .utf8)
            #expect(json.contains("\"encoder\" : \"libx264\""))
        }
    }

    @Test("progress arrives through the AsyncStream, rising to 1, and the stream finishes")
    func progress() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await PipelineFixtures.clip(input, seconds: 3, size: "640x360")
            let (stream, continuation) = AsyncStream<TranscodeProgress>.makeStream()
            let request = TranscodeRequest(input: input, outputDirectory: dir.appendingPathComponent("pkg"),
                                           workDirectory: dir.appendingPathComponent("work"), options: Self.small)
            async let manifest = Transcoder(logger: Logger(label: "test")).transcode(request, progress: continuation)
            var seen: [TranscodeProgress] = []
            for await p in stream { seen.append(p) }  // ends only because transcode finishes the stream
            let m = try await manifest
            #expect(!seen.isEmpty)
            #expect(seen.last?.fraction == 1)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.fraction <= $1.fraction })
            #expect(seen.allSatisfy { (0...1).contains($0.fraction) && $0.speed >= 0 })
            #expect(abs(m.durationSeconds - 3) < 0.25)
            #expect(m.thumbnails.count == 4)
        }
    }

    @Test("cancellation stops within a second and removes the work directory")
    func cancellation() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("long.mp4")
            try await PipelineFixtures.clip(input, seconds: 20, size: "1280x720")
            var options = Self.small
            options.preset = "medium"
            options.ladder = [Rung(height: 720, videoBitrate: 2_000_000), Rung(height: 360, videoBitrate: 800_000)]
            let work = dir.appendingPathComponent("work")
            let out = dir.appendingPathComponent("pkg")
            let request = TranscodeRequest(input: input, outputDirectory: out, workDirectory: work, options: options)
            let (stream, continuation) = AsyncStream<TranscodeProgress>.makeStream()
            let task = Task { try await Transcoder(logger: Logger(label: "test")).transcode(request, progress: continuation) }
            for await p in stream where p.mediaSeconds > 0 { _ = p; break }  // it is really encoding
            #expect(FileManager.default.fileExists(atPath: work.path))
            let cancelled = ContinuousClock.now
            task.cancel()
            do {
                _ = try await task.value
                Issue.record("a 20 s clip at preset medium finished before the cancel")
            } catch {
                #expect(error is CancellationError, "\(error)")
            }
            let elapsed = ContinuousClock.now - cancelled
            #expect(elapsed < .seconds(1), "stopped after \(elapsed)")
            #expect(!FileManager.default.fileExists(atPath: work.path))
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test("the package is renamed into place only when complete; an existing output is refused")
    func atomicPublish() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await PipelineFixtures.clip(input, seconds: 1)
            let out = dir.appendingPathComponent("pkg")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try Data("keep".utf8).write(to: out.appendingPathComponent("other.txt"))
            let request = TranscodeRequest(input: input, outputDirectory: out, workDirectory: dir.appendingPathComponent("work"),
                                           options: Self.small)
            await #expect(throws: PipelineError.self) { try await Transcoder(logger: Logger(label: "t")).transcode(request) }
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("master.m3u8").path))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("work").path))
        }
    }

    @Test("probe reports rotation, VFR and audio layout; refuses audio-only")
    func probe() async throws {
        try await withTempDir { dir in
            let vfr = dir.appendingPathComponent("vfr.mp4")
            try await PipelineFixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=2",
                                         "-f", "lavfi", "-i", "sine=sample_rate=48000:duration=2",
                                         "-vf", "select='not(eq(mod(n\\,4)\\,1))'", "-fps_mode", "vfr",
                                         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "6", "-shortest", vfr.path])
            let info = try Prober.probe(vfr)
            #expect(info.video.variableFrameRate)
            #expect(info.video.codec == "h264")
            #expect(info.video.width == 320 && info.video.height == 240)
            #expect(info.audio?.channels == 6)
            #expect(info.audio?.layout.hasPrefix("5.1") == true)

            let cfr = dir.appendingPathComponent("cfr.mp4")
            try await PipelineFixtures.clip(cfr, seconds: 1)
            let c = try Prober.probe(cfr)
            #expect(!c.video.variableFrameRate)
            #expect(c.video.frameRate == 25)
            #expect(c.video.rotation == 0 && c.video.bitDepth == 8 && c.video.chroma == "4:2:0")

            let song = dir.appendingPathComponent("song.m4a")
            try await PipelineFixtures.ffmpeg(["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", song.path])
            #expect { try Prober.probe(song) } throws: { error in
                (error as? PipelineError)?.code == .noVideo && "\(error)".contains("audio-only")
            }
        }
    }
}
