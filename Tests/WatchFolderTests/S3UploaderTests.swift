import Crypto
import Foundation
import TestSupport
import Testing
@testable import WatchFolder

/// The S3 uploader against a real moto_server with SigV4 signature checking on (Tests/Peers/moto_server.py).
@Suite("S3 uploader against moto", .timeLimit(.minutes(5)))
struct S3UploaderTests {
    /// A package: right keys, content types, cache headers; every object before the media playlists, the master
    /// last; downloaded back from the bucket it plays.
    @Test func packageIsUploadedInOrderWithHeadersAndPlaysBack() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try await S3Fixtures.hlsPackage(in: package)
        let files = S3Fixtures.files(under: package)

        var config = peer.config(bucket: bucket, prefix: "vod")
        config.uploadConcurrency = 3
        let uploader = try S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
        let progress = ProgressLog()
        let result = try await uploader.uploadPackage(directory: package, keyPrefix: "shows/ep 1",
                                                      progress: { progress.record($0) })

        let objects = try await peer.objects(bucket)
        #expect(objects.map(\.key).sorted() == files.map { "vod/shows/ep 1/\($0)" }.sorted())
        #expect(result.masterKey == "vod/shows/ep 1/master.m3u8")
        #expect(result.masterURL == "\(peer.endpoint)/\(bucket)/vod/shows/ep%201/master.m3u8")
        #expect(result.objectsUploaded == files.count && result.objectsSkipped == 0)
        let total = files.reduce(Int64(0)) { $0 + (try! FileManager.default.attributesOfItem(
            atPath: package.appendingPathComponent($1).path)[.size] as! Int64) }
        #expect(result.bytesUploaded == total)
        #expect(progress.last == total)

        for object in objects {
            let name = object.key
            let expectedType: String
            if name.hasSuffix(".m3u8") { expectedType = "application/vnd.apple.mpegurl" }
            else if name.hasSuffix(".ts") { expectedType = "video/mp2t" }
            else if name.hasSuffix(".jpg") { expectedType = "image/jpeg" }
            else if name.hasSuffix(".vtt") { expectedType = "text/vtt" }
            else { expectedType = "application/json" }
            #expect(object.content_type == expectedType, "\(name)")
            let short = name.hasSuffix(".m3u8") || name.hasSuffix(".json")
            #expect(object.cache_control == (short ? "public, max-age=60" : "public, max-age=31536000, immutable"), "\(name)")
        }

        // Order, from the server's request log: each PUT's start and end.
        let log = try await peer.log(bucket).filter { $0.method == "PUT" }
        func index(_ event: String, _ suffix: String) -> [Int] {
            log.indices.filter { log[$0].event == event && log[$0].target.hasSuffix(suffix) }
        }
        let masterStart = try #require(index("start", "/master.m3u8").first)
        let playlistStart = try #require(index("start", "/index.m3u8").first)
        let mediaEnds = log.indices.filter { log[$0].event == "end" && !log[$0].target.hasSuffix(".m3u8") }
        #expect(mediaEnds.count == files.count - 2)
        #expect(mediaEnds.allSatisfy { $0 < playlistStart }, "media playlists start after every segment is stored")
        #expect(index("end", "/index.m3u8").allSatisfy { $0 < masterStart }, "the master starts last")
        #expect(log.filter { $0.event == "start" }.count == files.count, "no retries, no extra requests")

        // Downloaded back, it plays.
        let copy = try S3Fixtures.tempDirectory("wf-s3-copy")
        defer { try? FileManager.default.removeItem(at: copy) }
        for object in objects {
            let local = copy.appendingPathComponent(String(object.key.dropFirst("vod/shows/ep 1/".count)))
            try FileManager.default.createDirectory(at: local.deletingLastPathComponent(), withIntermediateDirectories: true)
            try await peer.object(bucket, key: object.key).write(to: local)
        }
        let play = try await S3Fixtures.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-i",
                                                 copy.appendingPathComponent("master.m3u8").path, "-f", "null", "-"])
        #expect(play.status == 0, "\(play.stderr)")
    }

    /// An fMP4 package with DASH: each new kind of file gets its `Content-Type` (`application/dash+xml`,
    /// `video/iso.segment`, `video/mp4`, `text/vtt`, `image/jpeg`); `manifest.mpd` goes up with the media playlists,
    /// after every segment and before `master.m3u8` (whose presence means "published"), with the playlists' short cache.
    @Test func dashPackageTypesAndOrder() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        let types = [
            "manifest.mpd": "application/dash+xml", "master.m3u8": "application/vnd.apple.mpegurl",
            "90p/index.m3u8": "application/vnd.apple.mpegurl", "90p/init.mp4": "video/mp4",
            "90p/seg_00000.m4s": "video/iso.segment", "subs_en/subtitles.vtt": "text/vtt", "storyboard.vtt": "text/vtt",
            "storyboard_01.jpg": "image/jpeg", "manifest.json": "application/json",
        ]
        for name in types.keys {
            let url = package.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(repeating: 7, count: 64).write(to: url)
        }
        var config = peer.config(bucket: bucket)
        config.uploadConcurrency = 4
        let result = try await S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
            .uploadPackage(directory: package, keyPrefix: "d", progress: nil)
        #expect(result.masterKey == "d/master.m3u8")
        let objects = try await peer.objects(bucket)
        #expect(Dictionary(uniqueKeysWithValues: objects.map { (String($0.key.dropFirst(2)), $0.content_type ?? "") }) == types)
        for object in objects {
            let short = [".m3u8", ".mpd", ".json"].contains { object.key.hasSuffix($0) }
            #expect(object.cache_control == (short ? "public, max-age=60" : "public, max-age=31536000, immutable"), "\(object.key)")
        }
        let log = try await peer.log(bucket).filter { $0.method == "PUT" }
        let mpdStart = try #require(log.firstIndex { $0.event == "start" && $0.target.hasSuffix("/manifest.mpd") })
        let mpdEnd = try #require(log.firstIndex { $0.event == "end" && $0.target.hasSuffix("/manifest.mpd") })
        let masterStart = try #require(log.firstIndex { $0.event == "start" && $0.target.hasSuffix("/master.m3u8") })
        let lastMediaEnd = try #require(log.lastIndex { $0.event == "end" && !$0.target.hasSuffix(".m3u8") && !$0.target.hasSuffix(".mpd") })
        #expect(lastMediaEnd < mpdStart, "manifest.mpd starts once every segment is stored")
        #expect(mpdEnd < masterStart, "the master starts once manifest.mpd is stored")
    }

    /// Virtual-hosted addressing (`path_style = false`): the bucket is in the host name (`bucket.localhost`,
    /// which curl resolves to the loopback address), requests are signed for that host.
    @Test func virtualHostedAddressing() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("vhost")
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        try Data(repeating: 2, count: 100).write(to: package.appendingPathComponent("s 1.ts"))
        var config = peer.config(bucket: bucket)
        config.endpoint = "http://localhost:\(peer.ready.port)"
        config.pathStyle = false
        let result = try await S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
            .uploadPackage(directory: package, keyPrefix: "v", progress: nil)
        #expect(result.masterURL == "http://\(bucket).localhost:\(peer.ready.port)/v/master.m3u8")
        #expect(try await peer.objects(bucket).map(\.key).sorted() == ["v/master.m3u8", "v/s 1.ts"])
    }

    /// Temporary credentials: the session token is sent (and signed); without it the same keys are refused.
    @Test func sessionTokenIsSentAndRequired() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))

        let withToken = try S3Uploader(config: peer.config(bucket: bucket, keys: peer.ready.session),
                                       logger: S3Fixtures.logger, environment: [:])
        #expect(withToken.credentials.sessionToken != nil)
        _ = try await withToken.uploadPackage(directory: package, keyPrefix: "a", progress: nil)
        #expect(try await peer.objects(bucket).map(\.key) == ["a/master.m3u8"])

        var noToken = peer.ready.session
        noToken.session_token = nil
        let without = try S3Uploader(config: peer.config(bucket: bucket, keys: noToken), logger: S3Fixtures.logger,
                                     environment: [:])
        let error = await #expect(throws: S3Error.self) {
            _ = try await without.uploadPackage(directory: package, keyPrefix: "b", progress: nil)
        }
        #expect(error?.status == 403)
    }

    /// Wrong keys: 403 at once (no retry storm), one line with the server's code and message; the local package
    /// stays even with `delete_local_after_upload`.
    @Test func wrongKeysAreRefusedOnceInOneLine() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))

        var wrong = peer.ready.user
        wrong.secret_access_key = String(wrong.secret_access_key.reversed())
        var config = peer.config(bucket: bucket, keys: wrong)
        config.deleteLocalAfterUpload = true
        let uploader = try S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
        let error = try #require(await #expect(throws: S3Error.self) {
            _ = try await uploader.uploadPackage(directory: package, keyPrefix: "x", progress: nil)
        })
        #expect(error.status == 403)
        #expect(error.s3Code == "SignatureDoesNotMatch")
        #expect(error.attempts == 1)
        #expect(!error.description.contains("\n"))
        #expect(error.description.contains("HTTP 403 SignatureDoesNotMatch: The request signature"))
        #expect(try await peer.log(bucket).filter { $0.event == "start" }.count == 1)
        #expect(try await peer.objects(bucket).isEmpty)
        #expect(FileManager.default.fileExists(atPath: package.appendingPathComponent("master.m3u8").path),
                "a failed upload never deletes the local package")
    }

    /// The peer, like AWS, checks each body against its `x-amz-content-sha256`: a wrong hash is refused (so the
    /// other tests prove the uploader's streamed hashes of files, parts and the completion document are right).
    @Test func payloadHashIsChecked() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let file = try S3Fixtures.tempDirectory().appendingPathComponent("body.ts")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try Data(repeating: 9, count: 3000).write(to: file)
        let uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        let workers = CurlWorkers(count: 1)
        defer { workers.shutdown() }
        let client = S3Client(endpoint: S3Endpoint(config: uploader.config), credentials: uploader.credentials,
                              retry: uploader.retry, logger: S3Fixtures.logger, workers: workers)
        let body = CurlRequest.Body.file(path: file.path, offset: 0, length: 3000)
        let error = try #require(await #expect(throws: S3Error.self) {
            _ = try await client.send("PUT", key: "bad.ts", body: body, payloadHash: S3Client.emptyPayloadHash)
        })
        #expect(error.status == 400 && error.s3Code == "XAmzContentSHA256Mismatch" && error.attempts == 1)
        let right = try FileDigest.sha256(path: file.path, offset: 0, length: 3000)
        _ = try await client.send("PUT", key: "good.ts", body: body, payloadHash: right)
        #expect(try await peer.objects(bucket).map(\.key) == ["good.ts"])
    }

    /// A non-retryable failure of one object stops the others at once (transfers in flight are aborted, queued
    /// ones dropped: no storm of doomed requests) and is the error reported; the master is never sent.
    @Test func firstFailureStopsTheRestAndIsReported() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        for i in 0..<40 { try Data(repeating: 1, count: 2000).write(to: package.appendingPathComponent(String(format: "s%02d.ts", i))) }
        try S3Fixtures.bigFile(package.appendingPathComponent("big.mp4"), size: 24 << 20)
        let hold = 20.0
        try await peer.addFaults([
            // Refused only once the held part is in flight, so that the failure has a transfer to stop.
            .init(method: "PUT", match: "/\(bucket)/f/s01.ts", count: 1, status: 403, code: "AccessDenied",
                  after: "/\(bucket)/f/big.mp4?partNumber=2&"),
            .init(method: "PUT", match: "/\(bucket)/f/big.mp4?partNumber=2&", count: 1, delay: hold),
        ])
        var config = peer.config(bucket: bucket)
        config.uploadConcurrency = 2
        let uploader = try S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
        let error = try #require(await #expect(throws: S3Error.self) {
            _ = try await uploader.uploadPackage(directory: package, keyPrefix: "f", progress: nil)
        })
        let returned = Date().timeIntervalSince1970
        // Measured from when the server began holding the part (however long the upload took to get there).
        let log = try await peer.log(bucket)
        let held = try #require(log.first { $0.event == "start" && $0.target.contains("big.mp4?partNumber=2&") }?.t,
                                "the held part was in flight when the other object failed")
        #expect(returned - held < hold - 5, "the part held by the server (\(hold) s) was aborted, not awaited: returned \(returned - held) s after it started")
        #expect(error.s3Code == "AccessDenied" && error.status == 403 && error.attempts == 1)
        let puts = log.filter { $0.event == "start" && $0.method == "PUT" }
        #expect(puts.count < 10, "\(puts.count) PUTs after the failure")
        #expect(!puts.contains { $0.target.hasSuffix("master.m3u8") })
    }

    /// A missing bucket fails at once with S3's NoSuchBucket message.
    @Test func missingBucketFailsAtOnce() async throws {
        let peer = try await MotoPeer.shared.value
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        let bucket = "wf-missing-\(UUID().uuidString.prefix(8).lowercased())"
        let uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        let error = try #require(await #expect(throws: S3Error.self) {
            _ = try await uploader.uploadPackage(directory: package, keyPrefix: "x", progress: nil)
        })
        #expect(error.status == 404)
        #expect(error.s3Code == "NoSuchBucket")
        #expect(error.attempts == 1)
        #expect(error.description == "S3 GET ?list-type=2 s3://\(bucket): HTTP 404 NoSuchBucket: The specified bucket does not exist")
    }

    /// A 40 MiB object goes by multipart upload (8 MiB parts, several in parallel), arrives intact; small ones by a
    /// single PUT, several objects in parallel.
    @Test func largeObjectGoesMultipart() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        let big = package.appendingPathComponent("big.mp4")
        try S3Fixtures.bigFile(big, size: 40 << 20)
        for i in 0..<3 { try Data(repeating: UInt8(i), count: 5000).write(to: package.appendingPathComponent("s\(i).ts")) }
        // Hold part 1 until two other parts have been stored, and one segment until the two others have: an uploader
        // that sends one at a time keeps them held for 60 s and ends them first, whatever the machine's load.
        try await peer.addFaults([
            .init(method: "PUT", match: "/\(bucket)/m/big.mp4?partNumber=1&", count: 1,
                  untilEnded: "/\(bucket)/m/big.mp4?partNumber=", untilEndedCount: 2),
            .init(method: "PUT", match: "/\(bucket)/m/s0.ts", count: 1, untilEnded: "/\(bucket)/m/s", untilEndedCount: 2),
        ])

        let uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        let result = try await uploader.uploadPackage(directory: package, keyPrefix: "m", progress: nil)
        #expect(result.multipartObjects == 1)
        let ends = try await peer.log(bucket).filter { $0.event == "end" }.map(\.target)
        let part1 = try #require(ends.firstIndex { $0.contains("partNumber=1&") })
        let s0 = try #require(ends.firstIndex { $0.hasSuffix("/m/s0.ts") })
        #expect(ends.indices.filter { ends[$0].contains("partNumber=") && $0 < part1 }.count >= 2, "parts in parallel")
        #expect(ends.indices.filter { ends[$0].hasSuffix(".ts") && $0 < s0 }.count == 2, "objects in parallel")

        let objects = try await peer.objects(bucket)
        let stored = try #require(objects.first { $0.key == "m/big.mp4" })
        #expect(stored.size == 40 << 20)
        #expect(stored.etag.hasSuffix("-5"), "5 parts of 8 MiB: \(stored.etag)")
        #expect(stored.content_type == "video/mp4")
        #expect(stored.cache_control == "public, max-age=31536000, immutable")
        let log = try await peer.log(bucket)
        #expect(log.filter { $0.event == "start" && $0.method == "PUT" && $0.target.contains("partNumber=") }.count == 5)
        #expect(log.filter { $0.event == "start" && $0.method == "PUT" && $0.target.hasSuffix("/m/master.m3u8") }.count == 1)
        let back = try await peer.object(bucket, key: "m/big.mp4")
        #expect(SHA256.hash(data: back) == SHA256.hash(data: try Data(contentsOf: big)))
        #expect(try await peer.uploads(bucket).isEmpty)
    }

    /// 503 SlowDown, 500 and 429: retried with backoff, then stored; the log shows the refusals then the success.
    @Test func serverErrorsAreRetried() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        try Data(repeating: 7, count: 1000).write(to: package.appendingPathComponent("seg.ts"))
        try await peer.addFaults([
            .init(method: "PUT", match: "/\(bucket)/r/seg.ts", count: 3, status: 503, code: "SlowDown"),
            .init(method: "GET", match: "/\(bucket)/?list-type", count: 1, status: 500, code: "InternalError"),
            .init(method: "PUT", match: "/\(bucket)/r/master.m3u8", count: 1, status: 429, code: "TooManyRequests"),
        ])
        var uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        uploader.retry = S3RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200))
        _ = try await uploader.uploadPackage(directory: package, keyPrefix: "r", progress: nil)

        let segment = try await peer.log(bucket).filter { $0.event == "end" && $0.target.hasSuffix("/seg.ts") }
        #expect(segment.map(\.status) == [503, 503, 503, 200])
        let master = try await peer.log(bucket).filter { $0.event == "end" && $0.target.hasSuffix("/master.m3u8") }
        #expect(master.map(\.status) == [429, 200])
        let listing = try await peer.log(bucket).filter { $0.event == "end" && $0.target.contains("?list-type=2") }
        #expect(listing.first?.status == 500 && listing.dropFirst().allSatisfy { $0.status == 200 })
        #expect(try await peer.objects(bucket).map(\.key).sorted() == ["r/master.m3u8", "r/seg.ts"])
    }

    /// A request the server never answers times out (no byte moving for `stallTimeout`) and is retried.
    @Test func stalledRequestTimesOutAndIsRetried() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        // Held far longer than the bound below, so that a slow peer (moto under a loaded test run) cannot blur them.
        try await peer.addFaults([.init(method: "PUT", match: "/\(bucket)/t/master.m3u8", count: 1, delay: 90)])
        var uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        // 5 s, not 1: under a loaded test run moto can take over a second to send the first byte of a normal answer,
        // and a 1 s bound then timed out every attempt.
        uploader.stallTimeout = .seconds(5)
        uploader.retry = S3RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50))
        let start = ContinuousClock.now
        _ = try await uploader.uploadPackage(directory: package, keyPrefix: "t", progress: nil)
        #expect(ContinuousClock.now - start < .seconds(45), "did not wait for the held request")
        let starts = try await peer.log(bucket).filter { $0.event == "start" && $0.target.hasSuffix("/t/master.m3u8") }
        #expect(starts.count >= 2)
        #expect(try await peer.objects(bucket).map(\.key) == ["t/master.m3u8"])
    }

    /// Retries are bounded: a server that keeps answering 503 fails the upload after maxAttempts, in one line.
    @Test func retriesAreBounded() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        try await peer.addFaults([.init(method: "PUT", match: "/\(bucket)/", count: 100, status: 503, code: "SlowDown")])
        var uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        uploader.retry = S3RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50))
        let error = try #require(await #expect(throws: S3Error.self) {
            _ = try await uploader.uploadPackage(directory: package, keyPrefix: "z", progress: nil)
        })
        #expect(error.status == 503 && error.s3Code == "SlowDown" && error.attempts == 3)
        #expect(error.description.hasSuffix("(after 3 attempts)"))
        #expect(try await peer.log(bucket).filter { $0.event == "start" && $0.method == "PUT" }.count == 3)
    }

    /// A connection refused is a transport error: retried, then reported with curl's message.
    @Test func connectionRefusedIsRetriedThenReported() async throws {
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        var config = Config.S3(bucket: "nowhere")
        config.endpoint = "http://127.0.0.1:1"
        config.pathStyle = true
        config.accessKeyID = "AKIAEXAMPLE"
        config.secretAccessKey = "secret"
        var uploader = try S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
        uploader.retry = S3RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10))
        let error = try #require(await #expect(throws: S3Error.self) {
            _ = try await uploader.uploadPackage(directory: package, keyPrefix: "x", progress: nil)
        })
        #expect(error.code == .transport && error.attempts == 2)
        #expect(error.description.contains("Couldn't connect to server"))
    }

    /// delete_local_after_upload removes the package once the bucket listing shows every object.
    @Test func deleteLocalAfterVerifiedUpload() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket()
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        try Data(repeating: 1, count: 10).write(to: package.appendingPathComponent("a.ts"))
        try Data().write(to: package.appendingPathComponent("empty.json"))
        var config = peer.config(bucket: bucket)
        config.deleteLocalAfterUpload = true
        let result = try await S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
            .uploadPackage(directory: package, keyPrefix: "d", progress: nil)
        #expect(result.deletedLocal)
        #expect(!FileManager.default.fileExists(atPath: package.path))
        let objects = try await peer.objects(bucket)
        #expect(objects.map(\.key).sorted() == ["d/a.ts", "d/empty.json", "d/master.m3u8"])
        #expect(objects.first { $0.key == "d/empty.json" }?.size == 0)
    }
}

/// Collects progress callbacks.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int64] = []
    func record(_ v: Int64) { lock.lock(); values.append(v); lock.unlock() }
    var last: Int64? { lock.lock(); defer { lock.unlock() }; return values.max() }
}
