import Foundation
import TestSupport
import Testing

/// The CLI's contracts as a user's script sees them: exit codes, one-line errors, help with examples.
@Suite("CLI")
struct CLITests {
    static let subcommands = ["run", "transcode", "probe", "check-config", "status", "jobs", "retry", "cancel", "webhook-secret"]

    @Test("every subcommand has --help with an example", arguments: subcommands)
    func help(_ subcommand: String) async throws {
        let r = try await watchfolder(subcommand, "--help")
        #expect(r.status == 0)
        #expect(r.stdout.contains("Example:"))
        #expect(r.stdout.contains("watchfolder \(subcommand)"))
    }

    @Test("--version prints the version")
    func version() async throws {
        let r = try await watchfolder("--version")
        #expect(r.status == 0)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test("usage errors exit 2 with one line on stderr")
    func usageErrors() async throws {
        for args in [["bogus"], ["transcode"], ["jobs", "--limit", "many"], ["check-config", "--nope"]] {
            let r = try await runProcess(watchfolderBinary, args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("watchfolder: "), "\(args): \(r.stderr)")
        }
    }

    @Test("check-config prints the effective config and exits 0")
    func checkConfigValid() async throws {
        try await withTemporaryDirectory { dir in
            let config = try writeConfig(in: dir, extra: "[s3]\nbucket = \"b\"\nsecret_access_key = \"hunter2\"\n")
            let r = try await watchfolder("check-config", "--config", config.path)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("[inbox]\npath = \"\(dir.appendingPathComponent("inbox").path)\""))
            #expect(r.stdout.contains("settle_seconds = 5"))
            #expect(r.stdout.contains("[[transcode.ladder]]\nheight = 1080\nvideo_bitrate = \"5000k\""))
            #expect(r.stdout.contains("secret_access_key = \"***\""))
            #expect(!r.stdout.contains("hunter2"))
            #expect(r.stderr.isEmpty)
        }
    }

    @Test("check-config on a bad config exits 2 with FILE:LINE: message")
    func checkConfigInvalid() async throws {
        try await withTemporaryDirectory { dir in
            let config = try writeConfig(in: dir, inbox: "sttle_seconds = 3")
            let r = try await watchfolder("check-config", "--config", config.path)
            #expect(r.status == 2)
            #expect(r.stderr == "\(config.path):5: unknown key 'sttle_seconds' in [inbox]\n")
            #expect(r.stdout.isEmpty)

            let missing = dir.appendingPathComponent("nope.toml").path
            let m = try await watchfolder("check-config", "--config", missing)
            #expect(m.status == 2)
            #expect(m.stderr == "\(missing): no such file (copy config.example.toml there, or pass --config PATH)\n")
        }
    }

    @Test("WATCHFOLDER_CONFIG is used when --config is absent")
    func configFromEnvironment() async throws {
        try await withTemporaryDirectory { dir in
            let config = try writeConfig(in: dir, inbox: "settle_seconds = 9")
            let r = try await watchfolder("check-config", environment: ["WATCHFOLDER_CONFIG": config.path])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("settle_seconds = 9"))
        }
    }

    @Test("every config-reading command refuses a bad config with exit 2",
          arguments: [["status"], ["jobs"], ["retry", "1"], ["cancel", "1"], ["run"]])
    func badConfigEverywhere(_ args: [String]) async throws {
        try await withTemporaryDirectory { dir in
            let config = try writeConfig(in: dir, extra: "[transcode]\nconcurrency = \"two\"")
            let r = try await runProcess(watchfolderBinary, args + ["--config", config.path], timeout: 30)
            #expect(r.status == 2)
            #expect(r.stderr.hasSuffix("must be an integer, not a string\n"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }
}
