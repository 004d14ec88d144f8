public import Foundation

/// GStreamer as a real player: `gst-launch-1.0 playbin` with fake sinks (`sync=false`, so as fast as it decodes) plays
/// an HLS package from its master playlist (Debian's gstreamer1.0-tools, -plugins-base/-good/-bad, -libav; the
/// Makefile's APT_TEST installs them).
public enum GStreamerPlayer {
    /// Plays `master` to the end: returns once playbin reached end-of-stream with no error.
    ///
    /// Blocks the calling thread: call it through ``offPool(_:)``.
    /// - Parameter deadline: Seconds before the player is killed and the play counts as failed.
    /// - Throws: ``ToolFailure`` with gst-launch's output when it reports an error, exits non-zero, ends without
    ///   end-of-stream or runs past `deadline`.
    public static func playToEnd(_ master: URL, deadline: TimeInterval = 60) throws {
        let r = try runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), [
            "gst-launch-1.0", "playbin", "uri=\(master.absoluteURL.absoluteString)",
            "video-sink=fakesink sync=false", "audio-sink=fakesink sync=false",
        ], timeout: deadline)
        guard !r.timedOut else {
            throw ToolFailure(description: "gst-launch-1.0 ran past \(deadline) s on \(master.path): \(r.output.suffix(3000))")
        }
        guard r.status == 0, r.stdout.contains("Got EOS from element"), !r.output.contains("ERROR:") else {
            throw ToolFailure(description: "gst-launch-1.0 did not play \(master.path) to the end (status \(r.status)): \(r.output)")
        }
    }
}
