import Foundation
import FuzzHarness
import Logging
import Pipeline
import Testing

/// What the fuzz target relies on: ``TranscodeOptions/stopAfterSeconds``, and every input the fuzzer ever found
/// (Tests/Fuzz/regressions) replayed through the same untrusted-input path (``UntrustedInput``).
@Suite("Fuzz harness")
struct FuzzHarnessTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/regressions")

    static var regressionInputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: regressions.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test("stopAfterSeconds: a package of the first 2 s of a 6 s source, which succeeds and records the source's length")
    func stopAfter() async throws {
        try await withTempDir { dir in
            let input = dir.appendingPathComponent("in.mp4")
            try await PipelineFixtures.clip(input, seconds: 6)
            var options = TranscodeOptions(ladder: [Rung(height: 180, videoBitrate: 300_000)], preset: "ultrafast",
                                           segmentSeconds: 1, thumbnails: 3, hardware: .cpu)
            options.stopAfterSeconds = 2
            let out = dir.appendingPathComponent("pkg")
            let manifest = try await Transcoder(logger: Logger(label: "test")).transcode(TranscodeRequest(
                input: input, outputDirectory: out, workDirectory: dir.appendingPathComponent("work"), options: options))
            #expect(abs(manifest.durationSeconds - 2) < 0.001, "\(manifest.durationSeconds)")  // 50 frames at 25 fps
            #expect(abs(manifest.sourceDurationSeconds - 6) < 0.1)
            #expect(manifest.thumbnails.count == 3)
            let playlist = try String(contentsOf: out.appendingPathComponent(manifest.renditions[0].playlist), encoding: .utf8)
            let listed = playlist.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
                .compactMap { Double($0.dropFirst(8).prefix { $0 != "," }) }.reduce(0, +)
            #expect(abs(listed - 2) < 0.05, "\(playlist)")
        }
    }

    @Test("the harness makes a package of a plain clip and refuses a playlist")
    func harness() async throws {
        try await withTempDir { dir in
            let clip = dir.appendingPathComponent("in.ts")
            try await PipelineFixtures.clip(clip, seconds: 3, size: "128x72")
            let bytes = try Data(contentsOf: clip)
            let packaged = await onThread { bytes.withUnsafeBytes { UntrustedInput.run($0, name: "in.ts") } }
            guard case .packaged(let seconds) = packaged else { Issue.record("\(packaged)"); return }
            #expect(abs(seconds - 2) < 0.001)
            let playlist = Data("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n/etc/hostname\n#EXT-X-ENDLIST\n".utf8)
            let refused = await onThread { playlist.withUnsafeBytes { UntrustedInput.run($0, name: "x.mp4") } }
            #expect("\(refused)" == "refused: x.mp4: not a supported media file (hls playlist)")
        }
    }

    @Test("every committed fuzz finding goes through the untrusted-input path without crashing, within 30 s",
          arguments: regressionInputs)
    func regression(_ name: String) async throws {
        let bytes = try Data(contentsOf: Self.regressions.appendingPathComponent(name))
        // Timed on the engine's own thread: from this task, the time would include waiting for a thread of the
        // cooperative pool, which the other suites running beside it keep busy (41 s for a 0.04 s input in one run).
        let (outcome, took) = await onThread {
            let started = ContinuousClock.now
            let outcome = bytes.withUnsafeBytes { UntrustedInput.run($0, name: name) }
            return (outcome, ContinuousClock.now - started)
        }
        #expect(took < .seconds(30), "\(outcome) after \(took)")
    }
}

/// Runs blocking `body` on a thread of its own (the harness waits on a semaphore: never on the cooperative pool).
private func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.start()
    }
}
