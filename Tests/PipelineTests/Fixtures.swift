import Foundation
import TestSupport
import Testing

/// Test media for in-process engine tests, made with the ffmpeg CLI (tests only).
enum PipelineFixtures {
    /// Runs the ffmpeg CLI off the cooperative pool (a test waiting on it there would stall every server and
    /// engine of the test process meanwhile, two threads on a 2-core machine).
    static func ffmpeg(_ arguments: [String]) async throws {
        try await offPool {
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ffmpeg", "-y", "-hide_banner", "-loglevel", "error"] + arguments
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            struct Failed: Error {}
            guard process.terminationStatus == 0 else { throw Failed() }
        }
    }

    /// A testsrc2 + sine clip.
    static func clip(_ url: URL, seconds: Double, size: String = "320x180") async throws {
        try await ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=25:duration=\(seconds)",
                    "-f", "lavfi", "-i", "sine=duration=\(seconds)", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", "-shortest", url.path])
    }
}

/// A fresh temporary directory, removed afterwards.
func withTempDir<T>(_ body: (URL) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-pipe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try await body(dir)
}
