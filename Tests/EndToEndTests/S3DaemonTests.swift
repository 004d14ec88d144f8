import Foundation
import TestSupport
import Testing

/// The daemon with `[s3]`: packages go to the outbox, then to the bucket (moto_server with signature checking).
@Suite(.serialized) struct S3DaemonTests {
    static let secret = "whsec_" + Data("s3-daemon-test-secret-0123456789".utf8).base64EncodedString()

    /// The package's files, relative to its outbox folder.
    func files(_ f: DaemonFolders, _ package: String) -> Set<String> {
        var out = Set<String>()
        for rel in f.tree(f.outbox.appendingPathComponent(package)) {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: f.outbox.appendingPathComponent(package + "/" + rel).path,
                                              isDirectory: &isDir), !isDir.boolValue { out.insert(rel) }
        }
        return out
    }

    func completedPayloads(_ receiver: WebhookReceiver) -> [[String: Any]] {
        receiver.received().filter { $0.type == "job.completed" }.map(\.body)
    }

    /// Waits until the peer has answered every request it got for `bucket`: those a killed daemon left held too.
    func waitUntilEveryRequestIsAnswered(_ bucket: String) async throws {
        let moto = try await MotoPeer.daemonTests.value
        try await waitUntil("the peer answered every request", timeout: 60) {
            let log = try await moto.log(bucket)
            return log.filter { $0.event == "start" }.count == log.filter { $0.event == "end" }.count
        }
    }

    /// A dropped clip ends in the bucket, master last, with the right headers; the job's `master` (jobs --json and
    /// the `job.completed` payload) is the CloudFront URL; the S3 bytes counter moves.
    @Test func aDroppedClipIsUploadedAndTheJobRecordsTheCloudFrontURL() async throws {
        let moto = try await MotoPeer.daemonTests.value
        try await withTemporaryDirectory { dir in
            let bucket = try await moto.makeBucket("wfd")
            let receiver = try await WebhookReceiver(secret: Self.secret, in: dir)
            let f = try DaemonFolders(root: dir, extra: moto.toml(bucket: bucket, more: "cloudfront_domain = \"d111.cloudfront.net\"")
                                      + "[[webhook]]\nurl = \"\(receiver.url)\"\nsecret = \"\(Self.secret)\"\n")
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("a b.mp4"))
            try await waitUntil("the job completes", timeout: 180) { try await states(f.config)["a b.mp4"] == "completed" }
            try await waitUntil("job.completed is delivered", timeout: 30) { !completedPayloads(receiver).isEmpty }

            let package = try #require(f.packages().first)
            let objects = try await moto.objects(bucket)
            #expect(Set(objects.map(\.key)) == Set(files(f, package).map { "vod/\(package)/\($0)" }))
            let masterKey = "vod/\(package)/master.m3u8"
            let expected = "https://d111.cloudfront.net/" + masterKey.replacingOccurrences(of: " ", with: "%20")
            let job = try #require(try await jobs(f.config).first)
            #expect(job["master"] as? String == expected)
            #expect(job["output"] as? String == "s3://\(bucket)/vod/\(package)")
            let data = try #require(completedPayloads(receiver).first?["data"] as? [String: Any])
            #expect(data["master"] as? String == expected)

            for object in objects {
                if object.key.hasSuffix(".m3u8") {
                    #expect(object.content_type == "application/vnd.apple.mpegurl")
                    #expect(object.cache_control == "public, max-age=60")
                } else if object.key.hasSuffix(".ts") || object.key.hasSuffix(".m4s") || object.key.hasSuffix(".jpg") {
                    #expect(object.cache_control == "public, max-age=31536000, immutable", "\(object.key)")
                }
            }
            // The master is stored last: its PUT starts after every other PUT ended.
            let puts = try await moto.log(bucket).filter { $0.method == "PUT" }
            let masterStart = try #require(puts.firstIndex { $0.event == "start" && $0.target.hasSuffix("/master.m3u8") })
            let lastOtherEnd = try #require(puts.lastIndex { $0.event == "end" && !$0.target.hasSuffix("/master.m3u8") })
            #expect(lastOtherEnd < masterStart)
            // Downloaded back from the bucket, the package plays.
            let download = dir.appendingPathComponent("download")
            for object in objects {
                let url = download.appendingPathComponent(String(object.key.dropFirst("vod/\(package)/".count)))
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try await moto.object(bucket, key: object.key).write(to: url)
            }
            let play = try await tool("ffmpeg", ["-hide_banner", "-loglevel", "error", "-i",
                                                 download.appendingPathComponent("master.m3u8").path, "-f", "null", "-"])
            #expect(play.status == 0, "\(play.stderr)")
            let sent = try #require(try await daemon.metric("watchfolder_s3_uploaded_bytes_total"))
            #expect(sent == Double(objects.reduce(0) { $0 + $1.size }))
            #expect(daemon.isRunning)
            #expect(await daemon.stop() == 0)
        }
    }

    /// `segment_format = "fmp4"`: the package's `manifest.mpd` and every other file reach the bucket with their
    /// `Content-Type`, the mpd before the master; `manifest.json` lists exactly the package's files; downloaded back
    /// from the bucket, the DASH package plays to the end in GStreamer.
    @Test func anFMP4PackageGoesUpWithItsDASHManifest() async throws {
        let moto = try await MotoPeer.daemonTests.value
        try await withTemporaryDirectory { dir in
            let bucket = try await moto.makeBucket("wfdash")
            let f = try DaemonFolders(root: dir, transcode: "segment_format = \"fmp4\"", extra: moto.toml(bucket: bucket))
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("d.mp4"))
            try await waitUntil("the job completes", timeout: 180) { try await states(f.config)["d.mp4"] == "completed" }
            let package = try #require(f.packages().first)
            let prefix = "vod/\(package)/"
            let objects = try await moto.objects(bucket)
            let names = Set(objects.map { String($0.key.dropFirst(prefix.count)) })
            #expect(names == files(f, package))
            #expect(names.contains("manifest.mpd") && names.contains { $0.hasSuffix(".m4s") } && names.contains { $0.hasPrefix("audio_") })
            let types = ["mpd": "application/dash+xml", "m3u8": "application/vnd.apple.mpegurl", "m4s": "video/iso.segment",
                         "mp4": "video/mp4", "jpg": "image/jpeg", "vtt": "text/vtt", "json": "application/json"]
            for object in objects {
                #expect(object.content_type == types[(object.key as NSString).pathExtension], "\(object.key)")
            }
            let puts = try await moto.log(bucket).filter { $0.method == "PUT" }
            let mpdEnd = try #require(puts.firstIndex { $0.event == "end" && $0.target.hasSuffix("/manifest.mpd") })
            let masterStart = try #require(puts.firstIndex { $0.event == "start" && $0.target.hasSuffix("/master.m3u8") })
            #expect(mpdEnd < masterStart)

            let download = dir.appendingPathComponent("download")
            for object in objects {
                let url = download.appendingPathComponent(String(object.key.dropFirst(prefix.count)))
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try await moto.object(bucket, key: object.key).write(to: url)
            }
            let manifest = try #require(try JSONSerialization.jsonObject(
                with: Data(contentsOf: download.appendingPathComponent("manifest.json"))) as? [String: Any])
            #expect(manifest["files"] as? [String] == names.subtracting(["manifest.json"]).sorted())
            #expect(manifest["dash"] as? String == "manifest.mpd")
            try await offPool { try GStreamerPlayer.playToEnd(download.appendingPathComponent("manifest.mpd")) }
            #expect(await daemon.stop() == 0)
        }
    }

    /// Killed (-9) while the master's PUT is held (the job is `publishing`, the segments are stored): after the
    /// restart the upload resumes (no segment sent twice), the bucket holds exactly the package, no multipart
    /// upload is left, and `job.completed` is sent once with the S3 URL of the master.
    @Test func aDaemonKilledWhilePublishingResumesTheUpload() async throws {
        let moto = try await MotoPeer.daemonTests.value
        try await withTemporaryDirectory { dir in
            let bucket = try await moto.makeBucket("wfd")
            let receiver = try await WebhookReceiver(secret: Self.secret, in: dir)
            let f = try DaemonFolders(root: dir, extra: moto.toml(bucket: bucket)
                                      + "[[webhook]]\nurl = \"\(receiver.url)\"\nsecret = \"\(Self.secret)\"\n")
            // Held far longer than the test takes to kill the daemon (the peer gives a held request up when its
            // client dies), so that the master cannot be stored first however slow a loaded machine is.
            try await moto.delay("PUT", match: "/master.m3u8", seconds: 120)
            var daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("a.mp4"))
            try await waitUntil("the master's PUT is held", timeout: 180) {
                try await moto.log(bucket).contains { $0.event == "start" && $0.target.hasSuffix("/master.m3u8") }
            }
            #expect(try await states(f.config)["a.mp4"] == "publishing")
            await daemon.stop(SIGKILL)
            #expect(try await moto.objects(bucket).allSatisfy { !$0.key.hasSuffix("/master.m3u8") })
            #expect(completedPayloads(receiver).isEmpty)

            daemon = try await DaemonProcess.start(config: f.config)
            try await waitUntil("the job completes after the restart", timeout: 120) {
                try await states(f.config)["a.mp4"] == "completed"
            }
            try await waitUntil("job.completed is delivered", timeout: 30) { !completedPayloads(receiver).isEmpty }
            try await waitUntilEveryRequestIsAnswered(bucket)  // the held one too: nothing more arrives

            let package = try #require(f.packages().first)
            #expect(Set(try await moto.objects(bucket).map(\.key)) == Set(files(f, package).map { "vod/\(package)/\($0)" }))
            #expect(try await moto.uploads(bucket).isEmpty)
            let segmentPuts = try await moto.log(bucket).filter { $0.event == "start" && $0.method == "PUT" && $0.target.hasSuffix(".ts") }
            #expect(!segmentPuts.isEmpty)
            #expect(Set(segmentPuts.map(\.target)).count == segmentPuts.count, "a segment was sent twice")
            let expected = "\(moto.endpoint)/\(bucket)/vod/\(package)/master.m3u8"
            #expect(try await jobs(f.config).first?["master"] as? String == expected)
            let payloads = completedPayloads(receiver)
            #expect(payloads.count == 1)
            #expect((payloads.first?["data"] as? [String: Any])?["master"] as? String == expected)
            #expect(await daemon.stop() == 0)
        }
    }

    /// Wrong keys: the job fails with the server's 403 in one line, without a retry storm; the daemon stays up.
    @Test func wrongKeysFailTheJobWithThe403AndTheDaemonStaysUp() async throws {
        let moto = try await MotoPeer.daemonTests.value
        try await withTemporaryDirectory { dir in
            let bucket = try await moto.makeBucket("wfd")
            let f = try DaemonFolders(root: dir, transcode: "max_attempts = 1", extra: moto.toml(bucket: bucket, wrongSecret: true))
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("a.mp4"))
            try await waitUntil("the job fails", timeout: 180) { try await states(f.config)["a.mp4"] == "failed" }
            let job = try #require(try await jobs(f.config).first)
            let error = try #require(job["error"] as? String)
            #expect(error.contains("HTTP 403"), "\(error)")
            #expect(error.contains("SignatureDoesNotMatch"), "\(error)")
            #expect(!error.contains("\n"))
            #expect(job["master"] == nil || job["master"] is NSNull)
            #expect(try await moto.objects(bucket).isEmpty)
            #expect(try await moto.log(bucket).filter { $0.event == "start" }.count <= 2, "a 403 is not retried")
            #expect(try await daemon.metric("watchfolder_s3_errors_total") ?? 0 >= 1)
            #expect(daemon.isRunning)
            #expect(await daemon.stop() == 0)
        }
    }
}

extension S3DaemonTests {
    /// `delete_local_after_upload`: the outbox copy is gone once uploaded; a second file with the same name does not
    /// overwrite the first package in the bucket (its folder gets `-<job id>`).
    @Test func deleteLocalAfterUploadAndNoPackageIsOverwrittenInTheBucket() async throws {
        let moto = try await MotoPeer.daemonTests.value
        try await withTemporaryDirectory { dir in
            let bucket = try await moto.makeBucket("wfd")
            let f = try DaemonFolders(root: dir, extra: moto.toml(bucket: bucket, more: "delete_local_after_upload = true"))
            let daemon = try await DaemonProcess.start(config: f.config)
            for round in 1...2 {
                try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("a.mp4"))
                try await waitUntil("job \(round) completes", timeout: 180) {
                    try await jobs(f.config).filter { $0["state"] as? String == "completed" }.count == round
                }
            }
            #expect(f.packages().isEmpty, "the outbox copies were removed: \(f.tree(f.outbox))")
            let masters = try await jobs(f.config).compactMap { $0["master"] as? String }.sorted()
            let second = try #require(try await jobs(f.config).compactMap { $0["id"] as? Int }.max())
            #expect(masters == ["\(moto.endpoint)/\(bucket)/vod/a-\(second)/master.m3u8",
                                "\(moto.endpoint)/\(bucket)/vod/a/master.m3u8"].sorted())
            let keys = try await moto.objects(bucket).map(\.key)
            #expect(keys.contains("vod/a/master.m3u8") && keys.contains("vod/a-\(second)/master.m3u8"))
            #expect(keys.filter { $0.hasPrefix("vod/a/") }.count == keys.filter { $0.hasPrefix("vod/a-\(second)/") }.count)
            #expect(await daemon.stop() == 0)
        }
    }
}

extension S3DaemonTests {
    /// A 2 s clip of lossless noise, encoded at 150 Mbit/s in one segment: a ~40-50 MiB `.ts` that goes multipart.
    static let noiseClip = Task {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wf-s3-noise-\(getpid()).mp4")
        try await Fixtures.ffmpeg(["-f", "lavfi", "-i", "nullsrc=size=1280x720:rate=25:duration=2,geq=lum='random(1)*255':cb=128:cr=128",
                                   "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", url.path])
        return url
    }

    /// Killed (-9) in the middle of a multipart upload (part 3 held by the server, part 1 stored): after the
    /// restart the upload continues (part 1 is not sent again), the bucket holds exactly the package with the big
    /// segment whole, and no multipart upload is left.
    @Test func aDaemonKilledMidMultipartUploadContinuesIt() async throws {
        let moto = try await MotoPeer.daemonTests.value
        let clip = try await Self.noiseClip.value
        try await withTemporaryDirectory { dir in
            let bucket = try await moto.makeBucket("wfd")
            let f = try DaemonFolders(root: dir, transcode: "segment_seconds = 4", ladderHeight: 720,
                                      extra: moto.toml(bucket: bucket))
            var text = try String(contentsOf: f.config, encoding: .utf8)
            text = text.replacingOccurrences(of: "segment_seconds = 1\n", with: "")
                .replacingOccurrences(of: "video_bitrate = \"600k\"", with: "video_bitrate = \"150M\"\nmaxrate = \"200M\"\nbufsize = \"300M\"")
            try text.write(to: f.config, atomically: true, encoding: .utf8)
            try await moto.delay("PUT", match: "partNumber=3&", seconds: 6)
            var daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(clip, at: f.inbox.appendingPathComponent("n.mp4"))
            try await waitUntil("part 1 is stored and part 3 is held", timeout: 180) {
                let log = try await moto.log(bucket)
                return log.contains { $0.event == "start" && $0.target.contains("partNumber=3&") }
                    && log.contains { $0.event == "end" && $0.target.contains("partNumber=1&") && $0.status == 200 }
            }
            await daemon.stop(SIGKILL)
            #expect(try await moto.uploads(bucket).count == 1)

            daemon = try await DaemonProcess.start(config: f.config)
            try await waitUntil("the job completes after the restart", timeout: 120) {
                try await states(f.config)["n.mp4"] == "completed"
            }
            try await waitUntilEveryRequestIsAnswered(bucket)  // the held one too
            let package = try #require(f.packages().first)
            let local = files(f, package)
            let big = try #require(local.first { $0.hasSuffix(".ts") })
            let bigSize = try #require(try FileManager.default.attributesOfItem(
                atPath: f.outbox.appendingPathComponent("\(package)/\(big)").path)[.size] as? Int)
            #expect(bigSize > 16 << 20, "the segment goes multipart: \(bigSize) bytes")
            let objects = try await moto.objects(bucket)
            #expect(Set(objects.map(\.key)) == Set(local.map { "vod/\(package)/\($0)" }))
            #expect(objects.first { $0.key == "vod/\(package)/\(big)" }?.size == Int64(bigSize))
            #expect(try await moto.uploads(bucket).isEmpty)
            let part1 = try await moto.log(bucket).filter { $0.event == "start" && $0.target.contains("partNumber=1&") }
            #expect(part1.count == 1, "part 1 was kept, not sent again")
            #expect(await daemon.stop() == 0)
        }
    }
}
