import Foundation
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// `[http] max_connections` and `max_event_streams`: defaults, values, refusals with their line.
@Suite("Config: [http] limits")
struct ConfigHTTPLimitsTests {
    static let paths = """
        [inbox]
        path = "in"
        failed_path = "fail"
        archive_path = "arch"

        [state]
        path = "st"

        [outbox]
        path = "out"

        """

    func parse(_ http: String) throws(ConfigError) -> Config {
        try ConfigLoader.parse(Self.paths + "[http]\n" + http, file: "config.toml",
                               baseDirectory: URL(fileURLWithPath: "/etc/wf", isDirectory: true), environment: [:])
    }

    func refusal(_ http: String) -> String {
        do { _ = try parse(http); return "accepted" } catch { return error.description }
    }

    @Test func defaultsAndValues() throws {
        let defaults = try parse("")
        #expect(defaults.http.maxConnections == 256 && defaults.http.maxEventStreams == 32)
        let set = try parse("max_connections = 1000\nmax_event_streams = 100\n")
        #expect(set.http.maxConnections == 1000 && set.http.maxEventStreams == 100)
        // Streams stay fewer than connections when only the cap on connections is lowered.
        #expect(try parse("max_connections = 16\n").http.maxEventStreams == 15)
        #expect(try parse("max_connections = 2\n").http.maxEventStreams == 1)
        #expect(defaults.effectiveTOML().contains("max_connections = 256\nmax_event_streams = 32\n"))
    }

    @Test func refusals() {
        #expect(refusal("max_connections = 1\n") == "config.toml:12: 'max_connections' in [http] must be at least 2, not 1")
        #expect(refusal("max_connections = 100000\n") == "config.toml:12: 'max_connections' in [http] must be at most 65536, not 100000")
        #expect(refusal("max_connections = \"many\"\n") == "config.toml:12: 'max_connections' in [http] must be an integer, not a string")
        #expect(refusal("max_event_streams = 0\n") == "config.toml:12: 'max_event_streams' in [http] must be at least 1, not 0")
        #expect(refusal("max_connections = 8\nmax_event_streams = 8\n")
                == "config.toml:13: 'max_event_streams' in [http] must be at most 7, not 8")
    }

    @Test func theCapLeavesDescriptorsForTheDaemon() {
        #expect(StatusServer.connectionLimit(configured: 256, descriptors: 8192) == 256, "the unit's LimitNOFILE")
        #expect(StatusServer.connectionLimit(configured: 256, descriptors: 512) == 256)
        #expect(StatusServer.connectionLimit(configured: 256, descriptors: 400) == 144, "400 - 256 kept for the rest")
        #expect(StatusServer.connectionLimit(configured: 256, descriptors: 100) == 1)
        #expect(StatusServer.connectionLimit(configured: 10_000, descriptors: Int.max) == 10_000, "unlimited")
    }
}
