import Foundation
import Pipeline
import Testing
@testable import WatchFolder

/// `[limits]`: defaults, validation with line numbers, the effective TOML, and the scheduler's copy.
@Suite("Config [limits]")
struct LimitsConfigTests {
    static let minimal = """
        [inbox]
        path = "in"
        archive_path = "arch"
        failed_path = "fail"

        [state]
        path = "st"

        [outbox]
        path = "out"

        """

    func parse(_ extra: String) throws(ConfigError) -> Config {
        try ConfigLoader.parse(Self.minimal + extra, file: "config.toml", baseDirectory: URL(fileURLWithPath: "/etc/wf"))
    }

    @Test("defaults: probe 30 s, stall 120 s, 12 h, 8192x4320 pixels, 64 streams, gaps of 10 s")
    func defaults() throws {
        let l = try parse("").limits
        #expect(l == Limits(probeSeconds: 30, stallSeconds: 120, maxDurationSeconds: 43_200, maxPixels: 35_389_440,
                            maxStreams: 64, maxGapSeconds: 10))
        #expect(SchedulerSettings(config: try parse("")).options.limits == l)
    }

    @Test("every key is read, printed by check-config, and reaches the engine's options")
    func keys() throws {
        let c = try parse("""
            [limits]
            probe_seconds = 5
            stall_seconds = 2.5
            max_duration_seconds = 600
            max_pixels = 2073600
            max_streams = 8
            max_gap_seconds = 1
            """)
        #expect(c.limits == Limits(probeSeconds: 5, stallSeconds: 2.5, maxDurationSeconds: 600, maxPixels: 2_073_600,
                                   maxStreams: 8, maxGapSeconds: 1))
        #expect(SchedulerSettings(config: c).options.limits == c.limits)
        let toml = c.effectiveTOML()
        #expect(toml.contains("[limits]\nprobe_seconds = 5\nstall_seconds = 2.5\nmax_duration_seconds = 600\nmax_pixels = 2073600\nmax_streams = 8\nmax_gap_seconds = 1\n"))
        let again = try ConfigLoader.parse(toml, file: "effective.toml", baseDirectory: URL(fileURLWithPath: "/"))
        #expect(again.limits == c.limits)
    }

    @Test("wrong types, unknown keys, non-positive and non-finite values are errors with the line",
          arguments: [
              ("probe_seconds = \"30\"", "config.toml:12: 'probe_seconds' in [limits] must be a number of seconds, not a string"),
              ("stall_seconds = 0", "config.toml:12: 'stall_seconds' in [limits] must be a finite number of seconds above 0 and at most 86400, not 0"),
              ("max_gap_seconds = -1", "config.toml:12: 'max_gap_seconds' in [limits] must be a finite number of seconds above 0 and at most 86400, not -1"),
              ("max_duration_seconds = inf", "config.toml:12: 'max_duration_seconds' in [limits] must be a finite number of seconds above 0 and at most 604800, not inf"),
              ("probe_seconds = nan", "config.toml:12: 'probe_seconds' in [limits] must be a finite number of seconds above 0 and at most 3600, not nan"),
              ("max_pixels = 1.5", "config.toml:12: 'max_pixels' in [limits] must be an integer, not a float"),
              ("max_streams = 0", "config.toml:12: 'max_streams' in [limits] must be at least 1, not 0"),
              ("max_frames = 3", "config.toml:12: unknown key 'max_frames' in [limits]"),
          ])
    func invalid(_ line: String, _ expected: String) {
        do {
            _ = try parse("[limits]\n\(line)\n")
            Issue.record("expected \(expected)")
        } catch {
            #expect(error.description == expected)
        }
    }
}
