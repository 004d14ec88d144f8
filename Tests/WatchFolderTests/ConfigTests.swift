import Foundation
import Pipeline
import Testing
@testable import WatchFolder

/// The smallest valid config: only the required paths.
private let minimal = """
    [inbox]
    path = "in"
    archive_path = "arch"
    failed_path = "fail"

    [state]
    path = "st"

    [outbox]
    path = "out"
    """

private let base = URL(fileURLWithPath: "/etc/wf", isDirectory: true)

private func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> Config {
    try ConfigLoader.parse(text, file: "config.toml", baseDirectory: base, environment: environment)
}

private func expectError(_ text: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try parse(text)
        Issue.record("expected \(expected)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.description == expected, sourceLocation: sourceLocation)
    }
}

@Suite("Config")
struct ConfigTests {
    @Test("defaults match the documented contract")
    func defaults() throws {
        let c = try parse(minimal)
        #expect(c.inbox.path.path == "/etc/wf/in")
        #expect(c.inbox.archivePath?.path == "/etc/wf/arch")
        #expect(c.inbox.failedPath.path == "/etc/wf/fail")
        #expect(c.inbox.recursive == true)
        #expect(c.inbox.settleSeconds == 5)
        #expect(c.inbox.pollSeconds == 0)
        #expect(c.inbox.extensions.contains("mov") && c.inbox.extensions.contains("mp4"))
        #expect(c.inbox.ignore == [".*", "*.part", "*.filepart", "*.tmp", "*.crdownload", "~$*"])
        #expect(c.inbox.onSuccess == .archive)
        #expect(c.state.path.path == "/etc/wf/st")
        #expect(c.state.databaseURL.path == "/etc/wf/st/watchfolder.sqlite")
        #expect(c.state.keepEventsDays == 30)
        #expect(c.state.node == NodeIdentity.hostName && c.state.leaseSeconds == 30)
        #expect(c.http.metricsToken == false)
        #expect(c.outbox.path.path == "/etc/wf/out")
        #expect(c.outbox.layout == "{stem}")
        #expect(c.outbox.dash == true && c.transcode.options.dash == true)
        #expect(c.transcode.concurrency == 1)
        #expect(c.transcode.maxAttempts == 3)
        #expect(c.transcode.shutdownGraceSeconds == 30)
        let o = c.transcode.options
        #expect(o.hardware == .auto)
        #expect(o.preset == "veryfast")
        #expect(o.segmentSeconds == 6)
        #expect(o.segmentFormat == .ts)
        #expect(o.thumbnails == 10)
        #expect(o.audioBitrate == 128_000)
        #expect(o.maxAudioTracks == 8)
        #expect(o.ladder.map(\.height) == [1080, 720, 480, 360])
        #expect(o.ladder.map(\.videoBitrate) == [5_000_000, 2_800_000, 1_400_000, 800_000])
        #expect(o.ladder[0].maxrate == 5_350_000)
        #expect(o.ladder[0].bufsize == 7_500_000)
        #expect(c.s3 == nil)
        #expect(c.webhooks.isEmpty)
        #expect(c.http.listen == "127.0.0.1:8080")
        #expect(c.http.token == nil)
        #expect(c.log.level == .info)
        #expect(c.log.format == .text)
    }

    @Test("every key is read")
    func everyKey() throws {
        let c = try parse("""
            [inbox]
            path = "/data/in"
            recursive = false
            settle_seconds = 2.5
            poll_seconds = 10
            extensions = [".MOV", "mxf"]
            ignore = ["*.skip"]
            on_success = "delete"
            failed_path = "/data/failed"

            [state]
            path = "/var/lib/wf"
            keep_events_days = 0

            [outbox]
            path = "/data/out"
            layout = "{yyyy}/{mm}/{dd}/{dir}/{stem}-{id}"
            dash = false

            [transcode]
            concurrency = 3
            gpu_concurrency = 2
            hardware = "cpu"
            preset = "medium"
            segment_seconds = 4
            segment_format = "fmp4"
            thumbnails = 5
            storyboard_seconds = 12
            max_attempts = 7
            audio_bitrate = "192k"
            max_audio_tracks = 3
            shutdown_grace_seconds = 12

            [[transcode.ladder]]
            height = 720
            video_bitrate = "3M"

            [[transcode.ladder]]
            height = 1080
            video_bitrate = 6000000
            maxrate = "7000k"
            bufsize = "12000k"

            [s3]
            bucket = "videos"
            region = "eu-west-1"
            prefix = "/hls/"
            endpoint = "http://127.0.0.1:9000"
            path_style = true
            access_key_id = "AKIA1"
            secret_access_key = "s3cret"
            session_token = "tok"
            cloudfront_domain = "d1.cloudfront.net"
            delete_local_after_upload = true
            upload_concurrency = 8

            [[webhook]]
            url = "https://example.com/hook"
            secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            events = ["job.completed", "job.progress"]

            [[webhook]]
            url = "http://127.0.0.1:9999/h"
            secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

            [http]
            listen = "0.0.0.0:9090"
            token = "t0k"
            metrics_token = true

            [log]
            level = "debug"
            format = "json"
            """)
        #expect(c.inbox.recursive == false)
        #expect(c.inbox.settleSeconds == 2.5)
        #expect(c.inbox.pollSeconds == 10)
        #expect(c.inbox.extensions == ["mov", "mxf"])
        #expect(c.inbox.ignore == ["*.skip"])
        #expect(c.inbox.onSuccess == .delete)
        #expect(c.inbox.archivePath == nil)
        #expect(c.state.keepEventsDays == 0)
        #expect(c.http.metricsToken == true)
        #expect(c.outbox.layout == "{yyyy}/{mm}/{dd}/{dir}/{stem}-{id}")
        #expect(c.outbox.dash == false && c.transcode.options.dash == false)  // carried to the engine
        #expect(c.transcode.concurrency == 3)
        #expect(c.transcode.gpuConcurrency == 2)
        #expect(c.transcode.maxAttempts == 7)
        #expect(c.transcode.shutdownGraceSeconds == 12)
        let o = c.transcode.options
        #expect(o.hardware == .cpu)
        #expect(o.preset == "medium")
        #expect(o.segmentSeconds == 4)
        #expect(o.segmentFormat == .fmp4)
        #expect(o.thumbnails == 5)
        #expect(o.storyboardSeconds == 12)
        #expect(o.audioBitrate == 192_000)
        #expect(o.maxAudioTracks == 3)
        // Highest rung first; maxrate/bufsize default to 1.07x/1.5x.
        #expect(o.ladder == [
            Rung(height: 1080, videoBitrate: 6_000_000, maxrate: 7_000_000, bufsize: 12_000_000),
            Rung(height: 720, videoBitrate: 3_000_000, maxrate: 3_210_000, bufsize: 4_500_000),
        ])
        let s3 = try #require(c.s3)
        #expect(s3.bucket == "videos")
        #expect(s3.region == "eu-west-1")
        #expect(s3.prefix == "hls")
        #expect(s3.endpoint == "http://127.0.0.1:9000")
        #expect(s3.pathStyle)
        #expect(s3.accessKeyID == "AKIA1")
        #expect(s3.secretAccessKey == "s3cret")
        #expect(s3.sessionToken == "tok")
        #expect(s3.cloudfrontDomain == "d1.cloudfront.net")
        #expect(s3.deleteLocalAfterUpload)
        #expect(s3.uploadConcurrency == 8)
        #expect(c.webhooks.count == 2)
        #expect(c.webhooks[0].events == ["job.completed", "job.progress"])
        #expect(c.webhooks[1].events == Config.Webhook.defaultEvents)
        #expect(!c.webhooks[1].events.contains("job.progress"))
        #expect(c.http.host == "0.0.0.0" && c.http.port == 9090 && c.http.token == "t0k")
        #expect(c.log.level == .debug && c.log.format == .json)
    }

    @Test("unknown keys and tables are errors with their line")
    func unknownKeys() {
        expectError(minimal.replacingOccurrences(of: "failed_path = \"fail\"", with: "failed_path = \"fail\"\nsttle_seconds = 3"),
                    "config.toml:5: unknown key 'sttle_seconds' in [inbox]")
        expectError(minimal + "\n\n[inbx]\npath = \"x\"\n", "config.toml:12: unknown table [inbx]")
        expectError(minimal + "\n\n[[webhook]]\nurl = \"http://h/x\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevent = []\n",
                    "config.toml:15: unknown key 'event' in [[webhook]] #1")
        expectError(minimal + "\n\n[[transcode.ladder]]\nheight = 720\nvideo_bitrate = \"1M\"\nbitrate = 1\n",
                    "config.toml:15: unknown key 'bitrate' in [[transcode.ladder]] #1")
        expectError("stray = 1\n" + minimal, "config.toml:1: unknown key 'stray' outside any table")
    }

    @Test("wrong types and bad values name the key, the table and the line")
    func wrongTypes() {
        expectError(minimal.replacingOccurrences(of: "path = \"st\"", with: "path = 3"),
                    "config.toml:7: 'path' in [state] must be a string, not an integer")
        expectError(minimal + "\n[transcode]\nconcurrency = \"2\"\n",
                    "config.toml:12: 'concurrency' in [transcode] must be an integer, not a string")
        expectError(minimal.replacingOccurrences(of: "path = \"st\"", with: "path = \"st\"\nkeep_events_days = -1"),
                    "config.toml:8: 'keep_events_days' in [state] must be at least 0, not -1")
        expectError(minimal.replacingOccurrences(of: "path = \"st\"", with: "path = \"st\"\nnode = \"a b\\u0007\""),
                    "config.toml:8: 'node' in [state] must be 1 to 64 letters, digits, '.', '-' or '_' (a host name), not \"a b?\"")
        expectError(minimal.replacingOccurrences(of: "path = \"st\"", with: "path = \"st\"\ndatabase_url = \"mysql://u@h/db\""),
                    "config.toml:8: 'database_url' in [state] must be a PostgreSQL URL like \"postgresql://watchfolder@db.example:5432/watchfolder?sslmode=require\" (user, host and database)")
        expectError(minimal.replacingOccurrences(of: "path = \"st\"", with: "path = \"st\"\ndatabase_url = \"postgresql://u@h/db?sslmode=allow\""),
                    "config.toml:8: 'database_url' in [state]: sslmode must be one of \"disable\", \"prefer\", \"require\", \"verify-full\", not \"allow\"")
        expectError(minimal.replacingOccurrences(of: "path = \"st\"", with: "path = \"st\"\nlease_seconds = 1"),
                    "config.toml:8: 'lease_seconds' in [state] must be a finite number of seconds between 3 and 3600, not 1")
        expectError(minimal + "\n[transcode]\nconcurrency = 0\n",
                    "config.toml:12: 'concurrency' in [transcode] must be at least 1, not 0")
        expectError(minimal + "\n[inbox.x]\n", "config.toml:11: unknown key 'x' in [inbox]")
        expectError(minimal.replacingOccurrences(of: "archive_path = \"arch\"", with: "archive_path = \"arch\"\nrecursive = \"yes\""),
                    "config.toml:4: 'recursive' in [inbox] must be true or false, not a string")
        expectError(minimal + "\n[transcode]\nsegment_format = \"mp4\"\n",
                    "config.toml:12: 'segment_format' in [transcode] must be one of \"ts\", \"fmp4\", not \"mp4\"")
        expectError(minimal.replacingOccurrences(of: "path = \"out\"", with: "path = \"out\"\ndash = \"no\""),
                    "config.toml:11: 'dash' in [outbox] must be true or false, not a string")
        expectError(minimal + "\n[transcode]\nhdr = \"sdr\"\n",
                    "config.toml:12: 'hdr' in [transcode] must be one of \"tonemap\", \"keep\", not \"sdr\"")
        expectError(minimal + "\n[transcode]\nhdr = \"keep\"\nsegment_format = \"ts\"\n",
                    "config.toml:13: 'segment_format' in [transcode] = \"ts\" cannot carry the HEVC renditions of hdr = \"keep\"; use \"fmp4\" (or leave it out)")
        expectError(minimal + "\n[transcode]\nhardware = \"gpu\"\n",
                    "config.toml:12: 'hardware' in [transcode] must be one of \"auto\", \"cpu\", \"nvenc\", \"vaapi\", \"qsv\", not \"gpu\"")
        expectError(minimal + "\n[transcode]\naudio_bitrate = \"fast\"\n",
                    "config.toml:12: 'audio_bitrate' in [transcode] must be a bitrate up to 1000M such as \"5000k\" or \"2.8M\", not \"fast\"")
        expectError(minimal + "\n[transcode]\nmax_audio_tracks = 0\n",
                    "config.toml:12: 'max_audio_tracks' in [transcode] must be at least 1, not 0")
        expectError(minimal + "\n[transcode]\nmax_audio_tracks = 500\n",
                    "config.toml:12: 'max_audio_tracks' in [transcode] must be at most 32, not 500")
        expectError(minimal + "\n[[transcode.ladder]]\nheight = 721\nvideo_bitrate = \"1M\"\n",
                    "config.toml:12: 'height' in [[transcode.ladder]] #1 must be even, not 721")
        expectError(minimal + "\n[transcode]\nstoryboard_seconds = 0\n",
                    "config.toml:12: 'storyboard_seconds' in [transcode] must be at least 1, not 0")
        expectError(minimal + "\n[transcode]\nstoryboard_seconds = 601\n",
                    "config.toml:12: 'storyboard_seconds' in [transcode] must be at most 600, not 601")
        expectError(minimal + "\n[inbox]\n", "config.toml:11: TOML syntax: Error while parsing table header: cannot redefine existing table 'inbox'")
    }

    /// Headers the bundled TOML parser aborts the process on (an assertion in toml++, release builds too) are
    /// refused with their line first: `check-config` and a `SIGHUP` reload of such a typo do not crash.
    @Test("a table header without a name is one line, not a crash")
    func headersTheParserWouldAbortOn() {
        let saw: [(String, String?)] = [("[[[", "["), ("[[ [", "["), ("[.]", "."), ("[ .a]", "."), ("[=]", "="), ("[,]", ","),
                                        ("[#]", "#"), ("[[#", "#"), ("[[.]]", "."), ("[", nil)]
        for (header, start) in saw {
            expectError(minimal + "\n" + header + "\n", "config.toml:11: TOML syntax: a table header needs a name: [section] or "
                        + "[[section]]" + (start.map { ", saw '\($0)' where the name starts" } ?? ""))
        }
        // Names, quoted names and a blank name (which the parser reports itself) pass this check.
        expectError(minimal + "\n[ \"x\" ]\n", "config.toml:11: unknown table [x]")
        expectError(minimal + "\n[]\n", "config.toml:11: TOML syntax: Error while parsing table header: tables with blank bare keys are explicitly prohibited")
    }

    @Test("hdr = \"keep\" packages in fMP4: segment_format left out or \"fmp4\"; tonemap keeps the configured format")
    func hdrKeep() throws {
        for extra in ["", "segment_format = \"fmp4\"\n"] {
            let o = try parse(minimal + "\n[transcode]\nhdr = \"keep\"\n" + extra).transcode.options
            #expect(o.hdr == .keep && o.segmentFormat == .fmp4 && o.packagedSegmentFormat == .fmp4)
        }
        let t = try parse(minimal + "\n[transcode]\nhdr = \"tonemap\"\n").transcode.options
        #expect(t.hdr == .tonemap && t.segmentFormat == .ts && t.packagedSegmentFormat == .ts)
    }

    @Test("missing paths are errors")
    func missingPaths() {
        expectError(minimal.replacingOccurrences(of: "path = \"in\"\n", with: ""),
                    "config.toml:1: missing required key 'path' in [inbox]")
        expectError(minimal.replacingOccurrences(of: "[state]\npath = \"st\"", with: ""),
                    "config.toml: missing required table [state] (it needs at least 'path')")
        expectError(minimal.replacingOccurrences(of: "failed_path = \"fail\"", with: ""),
                    "config.toml:1: missing required key 'failed_path' in [inbox]")
        expectError(minimal.replacingOccurrences(of: "archive_path = \"arch\"", with: ""),
                    "config.toml:1: on_success = \"archive\" needs 'archive_path' in [inbox] (or set on_success to \"delete\" or \"keep\")")
    }

    @Test("webhook, layout and listen values are validated")
    func validation() {
        expectError(minimal + "\n[[webhook]]\nurl = \"http://h/x\"\nsecret = \"s3cret\"\n",
                    "config.toml:13: 'secret' in [[webhook]] #1 must be \"whsec_\" followed by base64 of at least 16 bytes (make one with `watchfolder webhook-secret`)")
        expectError(minimal + "\n[[webhook]]\nurl = \"ftp://h/x\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
                    "config.toml:12: 'url' in [[webhook]] #1 must be an http:// or https:// URL, not \"ftp://h/x\"")
        expectError(minimal + "\n[[webhook]]\nurl = \"http://h/x\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"job.done\"]\n",
                    "config.toml:14: unknown event \"job.done\" in [[webhook]] #1; events are job.queued, job.started, job.progress, job.retrying, job.completed, job.failed, job.cancelled")
        expectError(minimal.replacingOccurrences(of: "path = \"out\"", with: "path = \"out\"\nlayout = \"{name}\""),
                    "config.toml:11: unknown token {name} in 'layout' in [outbox]; tokens are {stem} {id} {yyyy} {mm} {dd} {dir}")
        expectError(minimal.replacingOccurrences(of: "path = \"out\"", with: "path = \"out\"\nlayout = \"../x/{stem}\""),
                    "config.toml:11: 'layout' in [outbox] must be a relative folder name such as \"{stem}\", not \"../x/{stem}\"")
        expectError(minimal + "\n[http]\nlisten = \"0.0.0.0:8080\"\n",
                    "config.toml:12: [http] listen = \"0.0.0.0:8080\" is reachable from other machines: set 'token' in [http] (or WATCHFOLDER_HTTP_TOKEN), or listen on 127.0.0.1")
        expectError(minimal + "\n[http]\nlisten = \"localhost\"\n",
                    "config.toml:12: 'listen' in [http] must be HOST:PORT such as \"127.0.0.1:8080\", not \"localhost\"")
    }

    @Test("secrets come from the environment when the file has none; the file wins")
    func environmentSecrets() throws {
        let env = ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "ENVSECRET", "AWS_SESSION_TOKEN": "ENVTOKEN",
                   "WATCHFOLDER_HTTP_TOKEN": "envhttp"]
        let fromEnv = try parse(minimal + "\n[s3]\nbucket = \"b\"\n[http]\nlisten = \"0.0.0.0:80\"\n", environment: env)
        #expect(fromEnv.s3?.accessKeyID == "ENVKEY")
        #expect(fromEnv.s3?.secretAccessKey == "ENVSECRET")
        #expect(fromEnv.s3?.sessionToken == "ENVTOKEN")
        #expect(fromEnv.http.token == "envhttp")
        let fromFile = try parse(minimal + "\n[s3]\nbucket = \"b\"\naccess_key_id = \"FILEKEY\"\n[http]\ntoken = \"filehttp\"\n", environment: env)
        #expect(fromFile.s3?.accessKeyID == "FILEKEY")
        #expect(fromFile.http.token == "filehttp")
    }

    @Test("the config path comes from --config, else WATCHFOLDER_CONFIG, else /etc")
    func configPath() {
        #expect(ConfigLoader.resolvePath("x.toml", environment: ["WATCHFOLDER_CONFIG": "y.toml"]) == "x.toml")
        #expect(ConfigLoader.resolvePath(nil, environment: ["WATCHFOLDER_CONFIG": "y.toml"]) == "y.toml")
        #expect(ConfigLoader.resolvePath(nil, environment: [:]) == "/etc/watchfolder/config.toml")
    }

    @Test("config.example.toml parses, documents the defaults, and every commented key is a real key")
    func example() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config.example.toml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let example = try ConfigLoader.parse(text, file: "config.example.toml", baseDirectory: base)
        var defaults = try parse("""
            [inbox]
            path = "/srv/watchfolder/inbox"
            archive_path = "/srv/watchfolder/archive"
            failed_path = "/srv/watchfolder/failed"
            [state]
            path = "/var/lib/watchfolder"
            [outbox]
            path = "/srv/watchfolder/outbox"
            """)
        defaults.sourcePath = "config.example.toml"
        #expect(example == defaults)

        // Uncomment the optional sections: every key they document must be accepted.
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            if line.hasPrefix("#["), line.hasSuffix("]") { return line.dropFirst() }
            // `#key = value` (no space after '#') is a commented-out setting; `# prose` is not.
            if line.hasPrefix("#"), let eq = line.firstIndex(of: "="),
               line[line.index(after: line.startIndex)..<eq].trimmingCharacters(in: .whitespaces)
                   .allSatisfy({ $0.isLetter || $0 == "_" }),
               line.dropFirst().first?.isLetter == true {
                return line.dropFirst()
            }
            return line
        }.joined(separator: "\n")
        let full = try ConfigLoader.parse(uncommented, file: "config.example.toml", baseDirectory: base)
        #expect(full.s3?.bucket == "my-videos")
        #expect(full.webhooks.count == 1)
        #expect(full.http.token == "change-me")
    }

    @Test("non-finite and absurd numbers are refused with their line", arguments: [
        ("[inbox]", "settle_seconds = inf", "'settle_seconds' in [inbox] must be a finite number of seconds between 0 and 86400, not inf"),
        ("[inbox]", "settle_seconds = nan", "'settle_seconds' in [inbox] must be a finite number of seconds between 0 and 86400, not nan"),
        ("[inbox]", "settle_seconds = -inf", "'settle_seconds' in [inbox] must be a finite number of seconds between 0 and 86400, not -inf"),
        ("[inbox]", "settle_seconds = 1e300", "'settle_seconds' in [inbox] must be a finite number of seconds between 0 and 86400, not 1e+300"),
        ("[inbox]", "settle_seconds = -1", "'settle_seconds' in [inbox] must be a finite number of seconds between 0 and 86400, not -1"),
        ("[inbox]", "poll_seconds = -0.5", "'poll_seconds' in [inbox] must be a finite number of seconds between 0 and 3600, not -0.5"),
        ("[inbox]", "poll_seconds = 1e9", "'poll_seconds' in [inbox] must be a finite number of seconds between 0 and 3600, not 1000000000"),
        ("[transcode]", "shutdown_grace_seconds = inf", "'shutdown_grace_seconds' in [transcode] must be a finite number of seconds between 0 and 3600, not inf"),
        ("[transcode]", "shutdown_grace_seconds = -3", "'shutdown_grace_seconds' in [transcode] must be a finite number of seconds between 0 and 3600, not -3"),
        ("[transcode]", "segment_seconds = 0", "'segment_seconds' in [transcode] must be a finite number of seconds above 0 and at most 60, not 0"),
        ("[transcode]", "segment_seconds = nan", "'segment_seconds' in [transcode] must be a finite number of seconds above 0 and at most 60, not nan"),
        ("[transcode]", "segment_seconds = 1e300", "'segment_seconds' in [transcode] must be a finite number of seconds above 0 and at most 60, not 1e+300"),
        ("[transcode]", "audio_bitrate = \"1e300M\"", "'audio_bitrate' in [transcode] must be a bitrate up to 1000M such as \"5000k\" or \"2.8M\", not \"1e300M\""),
        ("[transcode]", "audio_bitrate = 9223372036854775807", "'audio_bitrate' in [transcode] must be a bitrate up to 1000M such as \"5000k\" or \"2.8M\", not 9223372036854775807"),
        ("[state]", "keep_events_days = 9223372036854775807", "'keep_events_days' in [state] must be at most 36500, not 9223372036854775807"),
    ])
    func absurdNumbers(table: String, line: String, message: String) throws {
        // The key goes on the line after the table's header; its line number is in the message.
        let withTable = minimal.contains(table + "\n") ? minimal : minimal + "\n\n" + table + "\n"
        let text = withTable.replacingOccurrences(of: table + "\n", with: table + "\n" + line + "\n")
        let lineNumber = (text.components(separatedBy: "\n").firstIndex(of: line) ?? -1) + 1
        expectError(text, "config.toml:\(lineNumber): \(message)")
    }

    @Test("an outbox, archive, failed or state folder inside the inbox is refused", arguments: [
        ("[outbox]\npath = \"out\"", "[outbox]\npath = \"in/out\"", "[outbox] path (/etc/wf/in/out)"),
        ("[outbox]\npath = \"out\"", "[outbox]\npath = \"in\"", "[outbox] path (/etc/wf/in)"),
        ("archive_path = \"arch\"", "archive_path = \"in/archive\"", "'archive_path' in [inbox] (/etc/wf/in/archive)"),
        ("failed_path = \"fail\"", "failed_path = \"./in/.failed\"", "'failed_path' in [inbox] (/etc/wf/in/.failed)"),
        ("[state]\npath = \"st\"", "[state]\npath = \"in/sub/../state\"", "[state] path (/etc/wf/in/state)"),
    ])
    func foldersInsideTheInbox(original: String, replacement: String, named: String) throws {
        let text = minimal.replacingOccurrences(of: original, with: replacement)
        let key = replacement.components(separatedBy: "\n").last!
        let lineNumber = (text.components(separatedBy: "\n").lastIndex(of: key) ?? -1) + 1
        expectError(text, "config.toml:\(lineNumber): \(named) is inside the inbox (/etc/wf/in): the daemon would take its own files as uploads; put it beside the inbox")
    }

    @Test("folders beside the inbox, even with a name that starts like it, are fine")
    func foldersBesideTheInbox() throws {
        let c = try parse(minimal.replacingOccurrences(of: "archive_path = \"arch\"", with: "archive_path = \"in-archive\""))
        #expect(c.inbox.archivePath?.path == "/etc/wf/in-archive")
    }

    @Test("check-config output parses back to the same config")
    func effectiveRoundTrip() throws {
        let c = try parse(minimal + "\n[transcode]\npreset = \"fast\"\nsegment_seconds = 2.5\n[[webhook]]\nurl = \"http://h/x\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n")
        let printed = c.effectiveTOML()
        #expect(!printed.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let again = try ConfigLoader.parse(printed.replacingOccurrences(of: "whsec_***", with: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                                           file: "config.toml", baseDirectory: URL(fileURLWithPath: "/elsewhere"))
        var expected = c
        expected.sourcePath = "config.toml"
        #expect(again == expected)
    }
}
