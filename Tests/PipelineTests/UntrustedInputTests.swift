import CAV
import Foundation
import Logging
@testable import Pipeline
import Testing

/// The engine's untrusted-input entry points, in process: reads that block, deadlines, the output bound, the open.
@Suite("Untrusted input")
struct UntrustedInputTests {
    static let small = TranscodeOptions(ladder: [Rung(height: 180, videoBitrate: 300_000)], preset: "ultrafast",
                                        segmentSeconds: 1, thumbnails: 2, hardware: .cpu)

    /// A FIFO whose writer is open and silent after `prefix`: every read of it blocks.
    struct SilentFIFO {
        let reader: Int32
        let writer: Int32

        init(in dir: URL, prefix: Data = Data()) throws {
            let path = dir.appendingPathComponent("stalled.ts").path
            guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.EIO) }
            reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            writer = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            guard reader >= 0, writer >= 0 else { throw POSIXError(.EIO) }
            if !prefix.isEmpty { _ = prefix.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } }
        }

        func close() { Glibc.close(writer) }
    }

    @Test("cancelling a transcode stuck in a read that blocks (a FIFO) ends it within 2 s")
    func cancelReachesABlockedRead() async throws {
        try await withTempDir { dir in
            let clip = dir.appendingPathComponent("in.ts")
            try await PipelineFixtures.clip(clip, seconds: 1)
            let fifo = try SilentFIFO(in: dir, prefix: try Data(contentsOf: clip).prefix(4096))
            defer { fifo.close() }
            let source = try SourceFile(adopting: fifo.reader, name: "stalled.ts")
            var options = Self.small
            options.limits = Limits(probeSeconds: 600, stallSeconds: 600)
            let request = TranscodeRequest(input: dir.appendingPathComponent("stalled.ts"), outputDirectory: dir.appendingPathComponent("pkg"),
                                           workDirectory: dir.appendingPathComponent("work"), options: options, source: source)
            let task = Task { try await Transcoder(logger: Logger(label: "test")).transcode(request) }
            try await Task.sleep(for: .milliseconds(500))  // well inside the blocked read
            let cancelled = ContinuousClock.now
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            let elapsed = ContinuousClock.now - cancelled
            #expect(elapsed < .seconds(2), "stopped after \(elapsed)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("work").path))
        }
    }

    @Test("a probe that cannot finish (a read that blocks) fails at probe_seconds")
    func probeDeadline() async throws {
        try await withTempDir { dir in
            let fifo = try SilentFIFO(in: dir)
            defer { fifo.close() }
            let source = try SourceFile(adopting: fifo.reader, name: "stalled.ts")
            let started = ContinuousClock.now
            #expect { try Prober.probe(source, limits: Limits(probeSeconds: 1)) } throws: { error in
                (error as? PipelineError)?.code == .deadline && "\(error)" == "stalled.ts: the probe did not finish within 1 s (probe_seconds)"
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .seconds(1) && elapsed < .seconds(3), "\(elapsed)")
        }
    }

    @Test("a live HLS playlist (no ENDLIST, long target duration) is refused at once, well within probe_seconds")
    func livePlaylist() throws {
        try withTempDirSync { dir in
            let live = dir.appendingPathComponent("live.mp4")
            try "#EXTM3U\n#EXT-X-TARGETDURATION:100000\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:100000,\nhttp://127.0.0.1:9/a.ts\n"
                .write(to: live, atomically: true, encoding: .utf8)
            let started = ContinuousClock.now
            #expect { try Prober.probe(live, limits: Limits(probeSeconds: 5)) } throws: { error in
                (error as? PipelineError)?.code == .refusedInput && "\(error)" == "live.mp4: not a supported media file (hls playlist)"
            }
            #expect(ContinuousClock.now - started < .seconds(1))
        }
    }

    @Test("a job that writes more than (maxrates + audio) x 2 x duration + slack fails with a reason")
    func outputBound() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await PipelineFixtures.clip(input, seconds: 2, size: "640x360")
            var options = Self.small
            // A maxrate the encoder cannot meet, and no slack: the bound is passed within the first segment.
            options.ladder = [Rung(height: 360, videoBitrate: 2_000_000, maxrate: 1_000, bufsize: 2_000_000)]
            options.audioBitrate = 32_000
            options.limits.outputSlackBytes = 0
            let out = dir.appendingPathComponent("pkg")
            let request = TranscodeRequest(input: input, outputDirectory: out, workDirectory: dir.appendingPathComponent("work"),
                                           options: options)
            await #expect { try await Transcoder(logger: Logger(label: "test")).transcode(request) } throws: { error in
                (error as? PipelineError)?.code == .limit && "\(error)".hasPrefix("in.mp4: the output passed its bound: ")
            }
            #expect(!FileManager.default.fileExists(atPath: out.path))

            options.limits.outputSlackBytes = 16 << 20  // the real bound: the same job passes
            let ok = TranscodeRequest(input: input, outputDirectory: out, workDirectory: dir.appendingPathComponent("work"), options: options)
            _ = try await Transcoder(logger: Logger(label: "test")).transcode(ok)
        }
    }

    /// Changes libav's process-wide allocation limit: the suite is in the Makefile's SERIAL_TESTS for this too.
    @Test("a job whose libav allocations fail (ENOMEM) fails alone with `out of memory`; the next job runs")
    func outOfMemory() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await PipelineFixtures.clip(input, seconds: 1, size: "1920x1080")
            var options = Self.small
            options.ladder = [Rung(height: 180, videoBitrate: 300_000)]
            func run(_ name: String) async throws -> PackageManifest {
                let request = TranscodeRequest(input: input, outputDirectory: dir.appendingPathComponent(name),
                                               workDirectory: dir.appendingPathComponent("work-\(name)"), options: options)
                return try await Transcoder(logger: Logger(label: "test")).transcode(request)
            }
            av_max_alloc(2 << 20)  // a 1080p frame (3 MB) cannot be allocated
            await #expect { try await run("starved") } throws: { error in
                (error as? PipelineError).map { "\($0)".contains("out of memory") } == true
            }
            av_max_alloc(Int(Int32.max))
            _ = try await run("fed")
        }
    }

    @Test("frames over max_pixels are refused at probe, before any decode")
    func pixelBound() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await PipelineFixtures.clip(input, seconds: 1, size: "640x360")
            #expect { try Prober.probe(input, limits: Limits(maxPixels: 640 * 360 - 1)) } throws: { error in
                (error as? PipelineError)?.code == .limit
                    && "\(error)" == "in.mp4: refused: frames of 640x360 pixels are larger than max_pixels (230399)"
            }
            #expect(try Prober.probe(input, limits: Limits(maxPixels: 640 * 360)).video.width == 640)
        }
    }

    @Test("a file declaring more streams than max_streams is refused with the count")
    func streamBound() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("many.mkv")
            try await PipelineFixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
                                         "-map", "0:v", "-map", "1:a", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
                                         "-c:a", "aac", input.path])
            #expect { try Prober.probe(input, limits: Limits(maxStreams: 2)) } throws: { error in
                (error as? PipelineError)?.code == .limit && "\(error)" == "many.mkv: refused: 3 streams (max_streams is 2)"
            }
            #expect(try Prober.probe(input, limits: Limits(maxStreams: 3)).streams.count == 3)
        }
    }

    @Test("the open beneath a folder refuses symlinks anywhere on the path, with openat2 and with the walk",
          arguments: [true, false])
    func beneath(openat2: Bool) throws {
        try withTempDirSync { dir in
            let inbox = dir.appendingPathComponent("inbox")
            let outside = dir.appendingPathComponent("outside")
            for d in [inbox.appendingPathComponent("real"), outside] {
                try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            }
            try Data("secret".utf8).write(to: outside.appendingPathComponent("secret.mp4"))
            try Data("mine".utf8).write(to: inbox.appendingPathComponent("real/mine.mp4"))
            try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("linked").path, withDestinationPath: outside.path)
            try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("real/link.mp4").path,
                                                       withDestinationPath: outside.appendingPathComponent("secret.mp4").path)
            let file = try SourceFile.open("real/mine.mp4", beneath: inbox, useOpenat2: openat2)
            #expect(file.status.kind == "regular" && file.status.size == 4 && file.name == "mine.mp4")
            for (path, code) in [("linked/secret.mp4", PipelineError.Code.refusedInput), ("real/link.mp4", .refusedInput),
                                 ("../outside/secret.mp4", .refusedInput), ("real", .refusedInput), ("real/none.mp4", .missingInput)] {
                #expect(performing: { try SourceFile.open(path, beneath: inbox, useOpenat2: openat2) }, throws: { error in
                    (error as? PipelineError)?.code == code
                })
            }
        }
    }

    @Test("timestamp jumps longer than max_gap are closed; shorter gaps are left to be filled")
    func mender() {
        var m = TimelineMender(maxGap: 10)
        #expect([0, 1, 2, 50, 51, 60, 5].map { m.mend($0, duration: 1) } == [0, 1, 2, 3, 4, 13, 14])
        #expect(m.closed == 47 && m.jumps == 2)
        var late = TimelineMender(maxGap: 10)
        #expect(late.mend(1_000, duration: 1) == 0, "a stream that starts long after the file's start is moved to 0")
    }
}

func withTempDirSync<T>(_ body: (URL) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-pipe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}
