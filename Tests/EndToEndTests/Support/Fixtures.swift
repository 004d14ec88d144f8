import Foundation
import TestSupport

/// Generates test media with the ffmpeg CLI (tests only; product code never runs ffmpeg).
enum Fixtures {
    /// Runs `ffmpeg -y -hide_banner -loglevel error ARGS`; throws with ffmpeg's stderr on failure.
    static func ffmpeg(_ arguments: [String]) async throws {
        let result = try await tool("ffmpeg", ["-y", "-hide_banner", "-loglevel", "error"] + arguments, timeout: 300)
        guard result.status == 0 else {
            struct FFmpegFailed: Error, CustomStringConvertible { var description: String }
            throw FFmpegFailed(description: "ffmpeg \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }

    /// A `testsrc2` + `sine` H.264/AAC clip: `seconds` long, `width`x`height`, at `url`.
    static func clip(_ url: URL, seconds: Double = 2, width: Int = 640, height: Int = 360, rate: Int = 25,
                     audio: Bool = true, videoCodec: [String] = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]) async throws {
        var args = ["-f", "lavfi", "-i", "testsrc2=size=\(width)x\(height):rate=\(rate):duration=\(seconds)"]
        if audio { args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)"] }
        args += videoCodec
        if audio { args += ["-c:a", "aac", "-b:a", "96k", "-shortest"] }
        try await ffmpeg(args + [url.path])
    }
}
