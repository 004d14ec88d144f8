import Crypto
import Foundation
import TestSupport
import Testing
@testable import WatchFolder

/// Crash safety: an upload killed mid-way (SIGKILL of `watchfolder s3-upload`) resumes on the next run.
@Suite("S3 upload resume", .timeLimit(.minutes(5)))
struct S3ResumeTests {
    private func writeConfig(_ dir: URL, peer: MotoPeer, bucket: String) throws -> URL {
        let url = dir.appendingPathComponent("config.toml")
        try """
            [inbox]
            path = "inbox"
            failed_path = "failed"
            on_success = "keep"
            [state]
            path = "state"
            [outbox]
            path = "outbox"
            [s3]
            bucket = "\(bucket)"
            endpoint = "\(peer.endpoint)"
            path_style = true
            prefix = "vod"
            access_key_id = "\(peer.ready.user.access_key_id)"
            secret_access_key = "\(peer.ready.user.secret_access_key)"
            upload_concurrency = 4
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func launch(_ arguments: [String], executable: URL = watchfolderBinary, prefix: [String] = [],
                        stdout: URL) throws -> ChildProcess {
        let process = ChildProcess()
        process.executableURL = executable
        process.arguments = prefix + arguments
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        let stderr = stdout.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The first run is killed while part 3 of a 24 MiB object is in flight (the server holds it). The second
    /// run skips the objects already stored, keeps parts 1-2 of the interrupted multipart upload, sends the rest,
    /// and the bucket ends with exactly the package's objects and no upload left open.
    @Test func killedUploadResumesAndEndsWithExactlyThePackage() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("resume")
        let dir = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let package = dir.appendingPathComponent("pkg")
        try FileManager.default.createDirectory(at: package.appendingPathComponent("v0"), withIntermediateDirectories: true)
        try Data("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv0/index.m3u8\n".utf8)
            .write(to: package.appendingPathComponent("master.m3u8"))
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("v0/index.m3u8"))
        for i in 0..<6 {
            try Data(repeating: UInt8(i), count: 50_000 + i).write(to: package.appendingPathComponent("v0/seg_\(i).ts"))
        }
        try S3Fixtures.bigFile(package.appendingPathComponent("big.mp4"), size: 24 << 20)
        let config = try writeConfig(dir, peer: peer, bucket: bucket)
        let arguments = ["s3-upload", package.path, "--key", "show", "--config", config.path, "--json"]

        // Run 1: part 3 is held by the server; kill the uploader once parts 1-2 and some segments are stored.
        try await peer.addFaults([.init(method: "PUT", match: "/\(bucket)/vod/show/big.mp4?partNumber=3", count: 1,
                                        delay: 30)])
        let first = try launch(arguments, stdout: dir.appendingPathComponent("out1"))
        let deadline = Date().addingTimeInterval(60)
        while true {
            let log = try await peer.log(bucket)
            let partsDone = log.filter { $0.event == "end" && $0.status == 200 && $0.target.contains("big.mp4?partNumber=") }
            let segmentsDone = log.filter { $0.event == "end" && $0.status == 200 && $0.target.hasSuffix(".ts") }
            let heldPart = log.contains { $0.event == "start" && $0.target.contains("big.mp4?partNumber=3") }
            if partsDone.count == 2 && heldPart && segmentsDone.count >= 1 { break }
            try #require(first.isRunning, "the first run ended before it could be interrupted: \((try? String(contentsOf: dir.appendingPathComponent("out1.err"), encoding: .utf8)) ?? "")")
            try #require(Date() < deadline, "the first run never reached the held part")
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(first.processIdentifier, SIGKILL)
        await waitForExit(first)
        let afterKill = try await peer.objects(bucket)
        #expect(!afterKill.contains { $0.key.hasSuffix("master.m3u8") }, "the master is never there before the rest")
        #expect(try await peer.uploads(bucket).count == 1, "the crash left the multipart upload open")
        let stored = Set(afterKill.map(\.key))
        let logMark = try await peer.log(bucket).count

        // Run 2: resume.
        let out2 = dir.appendingPathComponent("out2")
        let second = try launch(arguments, stdout: out2)
        await waitForExit(second)
        #expect(second.terminationStatus == 0, "\((try? String(contentsOf: dir.appendingPathComponent("out2.err"), encoding: .utf8)) ?? "")")
        let summary = try JSONSerialization.jsonObject(with: try Data(contentsOf: out2)) as? [String: Any] ?? [:]
        #expect(summary["objects_skipped"] as? Int == stored.count)
        #expect(summary["uploads_resumed"] as? Int == 1)
        #expect(summary["parts_reused"] as? Int == 2)
        #expect(summary["master_url"] as? String == "\(peer.endpoint)/\(bucket)/vod/show/master.m3u8")

        let secondRun = try await peer.log(bucket).dropFirst(logMark)
        let puts = secondRun.filter { $0.event == "start" && $0.method == "PUT" }.map(\.target)
        for key in stored { #expect(!puts.contains { $0.hasPrefix("/\(bucket)/\(key)") }, "\(key) was sent again") }
        #expect(!puts.contains { $0.contains("partNumber=1&") || $0.contains("partNumber=2&") }, "kept parts were sent again")
        #expect(puts.contains { $0.contains("big.mp4?partNumber=3&") })

        let objects = try await peer.objects(bucket)
        #expect(objects.map(\.key).sorted() == S3Fixtures.files(under: package).map { "vod/show/\($0)" }.sorted())
        for object in objects {
            let local = package.appendingPathComponent(String(object.key.dropFirst("vod/show/".count)))
            let size = try FileManager.default.attributesOfItem(atPath: local.path)[.size] as? Int64
            #expect(object.size == size, "\(object.key)")
        }
        let big = try await peer.object(bucket, key: "vod/show/big.mp4")
        #expect(SHA256.hash(data: big) == SHA256.hash(data: try Data(contentsOf: package.appendingPathComponent("big.mp4"))))
        #expect(try await peer.uploads(bucket).isEmpty)
    }

    /// `watchfolder s3-upload` failures: exit 1 with one line naming the S3 error (wrong keys); exit 2 without [s3].
    @Test func cliFailsInOneLineWithExitCodes() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("cli")
        let dir = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let package = dir.appendingPathComponent("pkg")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        let config = try writeConfig(dir, peer: peer, bucket: bucket)
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(of: peer.ready.user.secret_access_key, with: "wrong-secret")
        try text.write(to: config, atomically: true, encoding: .utf8)

        let out = dir.appendingPathComponent("out")
        let failed = try launch(["s3-upload", package.path, "--key", "k", "--config", config.path], stdout: out)
        await waitForExit(failed)
        let stderr = try String(contentsOf: out.appendingPathExtension("err"), encoding: .utf8)
        #expect(failed.terminationStatus == 1)
        #expect(stderr.hasPrefix("watchfolder: S3 GET ?list-type=2 s3://\(bucket): HTTP 403 SignatureDoesNotMatch: "))
        #expect(stderr.filter { $0 == "\n" }.count == 1, "one line: \(stderr)")

        let noS3 = dir.appendingPathComponent("nos3.toml")
        try text.components(separatedBy: "[s3]")[0].write(to: noS3, atomically: true, encoding: .utf8)
        let usage = try launch(["s3-upload", package.path, "--key", "k", "--config", noS3.path], stdout: out)
        await waitForExit(usage)
        #expect(usage.terminationStatus == 2)
    }

    /// A stale multipart upload whose object is already complete (or no longer in the package) is aborted.
    @Test func staleUploadOutsideThePackageIsAborted() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("stale")
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        let uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        // Leave an open multipart upload under the prefix, for a key the package does not have.
        let workers = CurlWorkers(count: 1)
        defer { workers.shutdown() }
        let client = S3Client(endpoint: S3Endpoint(config: uploader.config), credentials: uploader.credentials,
                              retry: uploader.retry, logger: S3Fixtures.logger, workers: workers)
        _ = try await client.send("POST", key: "p/old.mp4", query: [("uploads", "")])
        _ = try await client.send("POST", key: "elsewhere/keep.mp4", query: [("uploads", "")])
        #expect(try await peer.uploads(bucket).count == 2)

        let result = try await uploader.uploadPackage(directory: package, keyPrefix: "p", progress: nil)
        #expect(result.staleUploadsAborted == 1)
        #expect(try await peer.uploads(bucket).map(\.key) == ["elsewhere/keep.mp4"], "only under the package's prefix")
    }

    /// Bounded memory: files are streamed from disk. Uploading a 64 MiB object raises the uploader's peak
    /// RSS by far less than the object (measured against a run that uploads one tiny file).
    @Test func memoryStaysBoundedForLargeObjects() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("mem")
        let dir = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try writeConfig(dir, peer: peer, bucket: bucket)
        let small = dir.appendingPathComponent("small"), large = dir.appendingPathComponent("large")
        for package in [small, large] {
            try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
            try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        }
        try S3Fixtures.bigFile(large.appendingPathComponent("big.mp4"), size: 64 << 20)

        // Peak RSS of a child, measured by Python's getrusage (an independent measure).
        func peakKiB(_ package: URL, key: String) async throws -> Int {
            let out = dir.appendingPathComponent("rss-\(key)")
            let process = try launch(["-c", """
                import resource, subprocess, sys
                r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
                print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                """, watchfolderBinary.path, "s3-upload", package.path, "--key", key, "--config", config.path],
                executable: URL(fileURLWithPath: "/usr/bin/env"), prefix: ["python3"], stdout: out)
            await waitForExit(process)
            let fields = try String(contentsOf: out, encoding: .utf8).split(separator: " ")
            try #require(fields.count == 2 && fields[0] == "0", "upload failed: \(fields)")
            return Int(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)) ?? .max
        }
        let baseline = try await peakKiB(small, key: "small")
        let peak = try await peakKiB(large, key: "large")
        #expect(peak - baseline < 24 << 10, "peak RSS grew by \(peak - baseline) KiB for a 64 MiB object")
        #expect(try await peer.objects(bucket).contains { $0.key == "vod/large/big.mp4" && $0.size == 64 << 20 })
    }

    /// Cancelling the task (daemon shutdown) aborts a transfer in flight promptly, with a `cancelled` error.
    @Test func cancellationAbortsTransfersInFlight() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("cancel")
        let package = try S3Fixtures.tempDirectory()
        defer { try? FileManager.default.removeItem(at: package) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        try Data(repeating: 3, count: 2_000).write(to: package.appendingPathComponent("slow.ts"))
        try await peer.addFaults([.init(method: "PUT", match: "/\(bucket)/c/slow.ts", count: 1, delay: 30)])
        let uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        let task = Task { try await uploader.uploadPackage(directory: package, keyPrefix: "c", progress: nil) }
        while try await !peer.log(bucket).contains(where: { $0.event == "start" && $0.target.hasSuffix("/slow.ts") }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(throws: S3Error.self) { try result.get() }
        if case .failure(let error as S3Error) = result { #expect(error.code == .cancelled) }
        #expect(try await !peer.objects(bucket).contains { $0.key == "c/master.m3u8" })
    }
}
