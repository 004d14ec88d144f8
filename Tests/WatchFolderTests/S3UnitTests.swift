import Foundation
import TestSupport
import Testing
@testable import WatchFolder

/// Addressing, credentials, content types and ordering: the pure parts of the S3 uploader.
@Suite("S3 addressing, credentials, object plan")
struct S3UnitTests {
    private func config(_ edit: (inout Config.S3) -> Void = { _ in }) -> Config.S3 {
        var c = Config.S3(bucket: "media")
        c.region = "eu-west-3"
        edit(&c)
        return c
    }

    @Test func awsVirtualHostedAndPathStyleURLs() {
        #expect(S3Endpoint(config: config()).url(key: "a/b c/é.ts")
                == "https://media.s3.eu-west-3.amazonaws.com/a/b%20c/%C3%A9.ts")
        #expect(S3Endpoint(config: config { $0.pathStyle = true }).url(key: "a/x+y.ts")
                == "https://s3.eu-west-3.amazonaws.com/media/a/x%2By.ts")
    }

    @Test func customEndpointAddressing() {
        let virtual = S3Endpoint(config: config { $0.endpoint = "http://minio.local:9000" })
        #expect(virtual.url(key: "k") == "http://media.minio.local:9000/k")
        let path = S3Endpoint(config: config { $0.endpoint = "https://r2.example.com/"; $0.pathStyle = true })
        #expect(path.url(key: "k") == "https://r2.example.com/media/k")
    }

    /// Query parameters are sorted and encoded (`/` too), as SigV4's canonical query string wants them.
    @Test func queryIsCanonical() {
        let url = S3Endpoint(config: config { $0.pathStyle = true })
            .url(key: "", query: [("uploads", ""), ("prefix", "a b/c/")])
        #expect(url == "https://s3.eu-west-3.amazonaws.com/media/?prefix=a%20b%2Fc%2F&uploads=")
    }

    @Test func publicURLIsCloudFrontWhenConfigured() throws {
        let env = ["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"]
        let plain = try S3Uploader(config: config { $0.prefix = "p" }, logger: S3Fixtures.logger, environment: env)
        #expect(plain.publicURL(forKey: plain.keyBase(for: "show/ep1") + "/master.m3u8")
                == "https://media.s3.eu-west-3.amazonaws.com/p/show/ep1/master.m3u8")
        let cdn = try S3Uploader(config: config { $0.cloudfrontDomain = "d111.cloudfront.net" },
                                 logger: S3Fixtures.logger, environment: env)
        #expect(cdn.publicURL(forKey: "show/ep 1/master.m3u8") == "https://d111.cloudfront.net/show/ep%201/master.m3u8")
    }

    @Test func credentialsComeFromConfigThenEnvironmentThenProfile() throws {
        let home = try S3Fixtures.tempDirectory("wf-home")
        defer { try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try """
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret
            # a comment
            [media]
            aws_access_key_id=MEDIAKEY
            aws_secret_access_key=mediasecret
            aws_session_token = mediatoken
            """.write(to: home.appendingPathComponent(".aws/credentials"), atomically: true, encoding: .utf8)

        let fromConfig = try S3Credentials.resolve(
            config: config { $0.accessKeyID = "CFG"; $0.secretAccessKey = "cfgsecret" },
            environment: ["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "envsecret", "HOME": home.path])
        #expect(fromConfig.accessKeyID == "CFG" && fromConfig.source == "config")

        let fromEnv = try S3Credentials.resolve(config: config(), environment: [
            "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "tok", "HOME": home.path,
        ])
        #expect(fromEnv.accessKeyID == "ENV" && fromEnv.sessionToken == "tok" && fromEnv.source == "environment")

        let fromDefault = try S3Credentials.resolve(config: config(), environment: ["HOME": home.path])
        #expect(fromDefault.accessKeyID == "DEFAULTKEY" && fromDefault.sessionToken == nil)

        let fromProfile = try S3Credentials.resolve(config: config(), environment: ["HOME": home.path, "AWS_PROFILE": "media"])
        #expect(fromProfile.accessKeyID == "MEDIAKEY" && fromProfile.secretAccessKey == "mediasecret"
                && fromProfile.sessionToken == "mediatoken")

        let error = #expect(throws: S3Error.self) {
            _ = try S3Credentials.resolve(config: config(), environment: ["HOME": home.path, "AWS_PROFILE": "nope"])
        }
        #expect(error?.code == .credentials)
        #expect(error?.description.contains("[nope]") == true)
    }

    @Test func contentTypesAndCacheControl() {
        let types = ["m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t", "m4s": "video/iso.segment",
                     "mp4": "video/mp4", "jpg": "image/jpeg", "vtt": "text/vtt", "json": "application/json", "bin": "application/octet-stream"]
        for (ext, type) in types { #expect(S3Object.contentType(forExtension: ext) == type) }
        #expect(S3Object.cacheControl(forExtension: "m4s") == "public, max-age=31536000, immutable")
        #expect(S3Object.cacheControl(forExtension: "jpg") == "public, max-age=31536000, immutable")
        #expect(S3Object.cacheControl(forExtension: "m3u8") == "public, max-age=60")
    }

    /// Segments and thumbnails first, media playlists next, the root master.m3u8 last.
    @Test func planOrdersMediaThenPlaylistsThenMaster() throws {
        let dir = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for rel in ["master.m3u8", "v0/index.m3u8", "v0/init.mp4", "v0/seg_1.m4s", "v1/index.m3u8", "v1/master.m3u8",
                    "thumbs/t.jpg"] {
            let url = dir.appendingPathComponent(rel)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: url)
        }
        let plan = try S3Object.plan(directory: dir, keyBase: "p/k")
        #expect(plan.map(\.key) == ["p/k/thumbs/t.jpg", "p/k/v0/init.mp4", "p/k/v0/seg_1.m4s",
                                    "p/k/v0/index.m3u8", "p/k/v1/index.m3u8", "p/k/v1/master.m3u8", "p/k/master.m3u8"])
        #expect(plan.last?.phase == .master)
    }

    @Test func partSizesStayWithinLimits() throws {
        let u = try S3Uploader(config: config(), logger: S3Fixtures.logger,
                               environment: ["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"])
        #expect(u.partSize(for: 40 << 20) == 8 << 20)
        let huge: Int64 = 1 << 40  // 1 TiB needs parts over 8 MiB to stay under 10,000
        #expect((huge + u.partSize(for: huge) - 1) / u.partSize(for: huge) <= 10_000)
    }

    /// Exponential backoff with jitter: between half and all of base * 2^(n-1), capped.
    @Test func backoffDoublesWithJitterAndIsCapped() {
        let policy = S3RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...8 {
            let full = min(Duration.seconds(1), .milliseconds(100) * (1 << (attempt - 1)))
            let delays = (0..<50).map { _ in policy.delay(after: attempt) }
            #expect(delays.allSatisfy { $0 >= full / 2 && $0 <= full }, "attempt \(attempt)")
            #expect(Set(delays).count > 1, "jittered")
        }
    }

    @Test func errorsSayWhetherToRetry() {
        func http(_ status: Int, _ code: String?) -> S3Error { S3Error(.http, status: status, s3Code: code, message: "m") }
        #expect(http(503, "SlowDown").isRetryable && http(500, nil).isRetryable && http(429, nil).isRetryable)
        #expect(http(400, "RequestTimeout").isRetryable)
        #expect(!http(403, "AccessDenied").isRetryable && !http(404, "NoSuchBucket").isRetryable)
        #expect(!http(400, "InvalidArgument").isRetryable)
    }

    /// Streamed digests of a file range equal Python hashlib's (an independent implementation).
    @Test func fileRangeDigestsMatchPython() async throws {
        let dir = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("f.bin")
        try S3Fixtures.bigFile(file, size: 3 << 20 | 12345)
        let (offset, length): (Int64, Int64) = (1 << 20 | 7, 2 << 20)
        let out = dir.appendingPathComponent("digests")
        let script = """
            import hashlib, sys
            with open(sys.argv[1], "rb") as f:
                f.seek(int(sys.argv[2])); data = f.read(int(sys.argv[3]))
            open(sys.argv[4], "w").write(hashlib.sha256(data).hexdigest() + " " + hashlib.md5(data).hexdigest())
            """
        let result = try await S3Fixtures.run("python3", ["-c", script, file.path, "\(offset)", "\(length)", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let expected = try String(contentsOf: out, encoding: .utf8).split(separator: " ").map(String.init)
        #expect(try FileDigest.sha256(path: file.path, offset: offset, length: length) == expected.first)
        #expect(try FileDigest.md5(path: file.path, offset: offset, length: length) == expected.last)
    }

    @Test func xmlHelpersDecodeEntities() {
        let xml: Substring = "<R><Upload><Key>a &amp; b/&#233;</Key><UploadId>x</UploadId></Upload><Upload><Key>c</Key></Upload></R>"
        #expect(S3XML.all("Upload", in: xml, decode: false).count == 2)
        #expect(S3XML.first("Key", in: xml) == "a & b/é")
    }
}
