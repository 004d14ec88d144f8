import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
@testable import WatchFolder

// Five minutes, as the other suites on the shared moto peer: a test waits for the peer to start, which took ~45 s in a
// loaded parallel run (Python importing moto on 2 busy cores), before its own few seconds.

/// The scheduler publishing to a real S3 peer (moto, signatures checked): a package that reached the outbox is
/// uploaded again by a retry, never built again; a prefix is a job's only when its manifest names the job.
@Suite(.timeLimit(.minutes(5))) struct SchedulerS3Tests {
    /// A scheduler over `bench` that publishes to `bucket` with a short upload retry policy (2 tries per request).
    private func scheduler(_ bench: Bench, _ builder: ScriptedBuilder, peer: MotoPeer, bucket: String,
                           deleteLocal: Bool = false) throws -> Scheduler {
        var config = peer.config(bucket: bucket)
        config.deleteLocalAfterUpload = deleteLocal
        var uploader = try S3Uploader(config: config, logger: S3Fixtures.logger, environment: [:])
        uploader.retry = S3RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10))
        let publisher = S3Publisher(outbox: OutboxPublisher(root: bench.outbox, layout: "{dir}/{stem}"), uploader: uploader,
                                    logger: S3Fixtures.logger)
        return Scheduler(store: bench.store, builder: builder, publisher: publisher, settings: bench.settings,
                         logger: Logger(label: "test"))
    }

    /// Every PUT of the master playlist answers 503 SlowDown for the first `count` requests.
    private func failMasterUploads(_ peer: MotoPeer, bucket: String, count: Int) async throws {
        try await peer.addFaults([.init(method: "PUT", match: "/\(bucket)/a/master.m3u8", count: count, status: 503, code: "SlowDown")])
    }

    /// Another package in the bucket under `a/`: a master playlist saying `foreign`, and `manifest` when given.
    private func uploadForeignPackage(_ dir: URL, manifest: String?, peer: MotoPeer, bucket: String) async throws {
        let foreign = dir.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("#EXTM3U\n#SOURCE foreign\n".utf8).write(to: foreign.appendingPathComponent("master.m3u8"))
        if let manifest { try Data(manifest.utf8).write(to: foreign.appendingPathComponent("manifest.json")) }
        let uploader = try S3Uploader(config: peer.config(bucket: bucket), logger: S3Fixtures.logger, environment: [:])
        _ = try await uploader.uploadPackage(directory: foreign, keyPrefix: "a", progress: nil)
    }

    private func outboxFolders(_ bench: Bench) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: bench.outbox.path).sorted()
    }

    @Test func anUploadThatRanOutOfRetriesIsRetriedFromTheOutboxCopyWithoutBuildingAgain() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("sched")
        try await withTempDir { dir in
            let bench = try Bench(root: dir, maxAttempts: 3)
            let job = try await bench.drop("a.mp4")
            try await failMasterUploads(peer, bucket: bucket, count: 2)  // the first attempt's two tries
            let builder = ScriptedBuilder()
            try await bench.run(scheduler(bench, builder, peer: peer, bucket: bucket), guardTime: .seconds(90)) {
                try await bench.store.counts()[.completed] == 1
            }
            let done = try #require(try await bench.store.job(job.id!))
            #expect(done.state == .completed)
            #expect(done.attempts == 2)
            #expect(builder.builds.withLock { $0 } == ["a.mp4"], "built once")
            #expect(try outboxFolders(bench) == ["a"], "no second copy (a-1) in the outbox")
            #expect(try await peer.objects(bucket).map(\.key) == ["a/manifest.json", "a/master.m3u8"])
            #expect(done.masterLocation?.hasSuffix("/\(bucket)/a/master.m3u8") == true, "\(done.masterLocation ?? "nil")")
            #expect(try await eventTypes(bench.store, job: job.id!).filter { $0 != "job.progress" }
                == ["job.queued", "job.started", "job.retrying", "job.started", "job.completed"])
        }
    }

    @Test func aJobFailedOnItsUploadIsPublishedUnderItsNameWhenRetriedByHand() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("sched")
        try await withTempDir { dir in
            let bench = try Bench(root: dir, maxAttempts: 1)
            let job = try await bench.drop("a.mp4")
            try await failMasterUploads(peer, bucket: bucket, count: 2)
            let builder = ScriptedBuilder()
            try await bench.run(scheduler(bench, builder, peer: peer, bucket: bucket), guardTime: .seconds(90)) {
                try await bench.store.counts()[.failed] == 1
            }
            #expect(bench.exists("failed/a.mp4"))
            #expect(try outboxFolders(bench) == ["a"], "the package reached the outbox; its upload failed")

            // What `watchfolder retry` and the dashboard's Retry button do.
            let failed = try #require(try await bench.store.job(job.id!))
            try await bench.store.transition(job.id!, .retried(effect: bench.settings.restoreEffect(for: failed)))
            await FileEffectRunner(store: bench.store, logger: Logger(label: "test")).runPending(job: job.id!)
            try await bench.run(scheduler(bench, builder, peer: peer, bucket: bucket), guardTime: .seconds(90)) {
                try await bench.store.counts()[.completed] == 1
            }
            #expect(builder.builds.withLock { $0 } == ["a.mp4"], "built once")
            #expect(try outboxFolders(bench) == ["a"])
            #expect(try await peer.objects(bucket).map(\.key) == ["a/manifest.json", "a/master.m3u8"])
            #expect(bench.exists("archive/a.mp4"))
        }
    }

    /// The issue's three drops with `delete_local_after_upload`: the outbox is empty after each upload, so only the
    /// bucket's manifests tell whose package a prefix holds.
    @Test func threeDropsWhoseNamesCollideGiveThreePackagesInTheBucket() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("names")
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            let builder = ScriptedBuilder()
            for (n, name) in ["clip.mp4", "clip-3.mp4", "clip.mp4"].enumerated() {
                try await bench.drop(name, content: "upload \(n + 1)")
                try await bench.run(scheduler(bench, builder, peer: peer, bucket: bucket, deleteLocal: true)) {
                    try await bench.store.counts()[.completed] == n + 1
                }
            }
            #expect(try outboxFolders(bench).isEmpty, "delete_local_after_upload")
            #expect(try await peer.objects(bucket).map(\.key).sorted() == [
                "clip-3-2/manifest.json", "clip-3-2/master.m3u8", "clip-3/manifest.json", "clip-3/master.m3u8",
                "clip/manifest.json", "clip/master.m3u8",
            ])
            for (n, prefix) in [(1, "clip"), (2, "clip-3"), (3, "clip-3-2")] {
                let master = String(decoding: try await peer.object(bucket, key: "\(prefix)/master.m3u8"), as: UTF8.self)
                #expect(master.contains("#SOURCE upload \(n)"), "\(prefix)")
                let manifest = try await peer.object(bucket, key: "\(prefix)/manifest.json")
                #expect(PackageStamp.jobID(in: manifest) == Int64(n))
                let job = try #require(try await bench.store.job(Int64(n)))
                #expect(job.masterLocation?.hasSuffix("/\(bucket)/\(prefix)/master.m3u8") == true, "\(job.masterLocation ?? "nil")")
                #expect(try await eventTypes(bench.store, job: Int64(n)).filter { $0 == "job.completed" }.count == 1)
            }
            let archived = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("archive").path)
            #expect(archived.sorted() == ["clip-3-2.mp4", "clip-3.mp4", "clip.mp4"])
        }
    }

    /// A prefix holding objects without this job's manifest (a package from an older version, another tool's files)
    /// is never published over nor taken for this job's package.
    @Test func aPrefixHoldingAnotherPackageIsNotThisJobs() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("names")
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            try await uploadForeignPackage(dir, manifest: nil, peer: peer, bucket: bucket)
            let job = try await bench.drop("a.mp4", content: "mine")
            try await bench.run(scheduler(bench, ScriptedBuilder(), peer: peer, bucket: bucket)) {
                try await bench.store.counts()[.completed] == 1
            }
            #expect(try outboxFolders(bench) == ["a-\(job.id!)"])
            #expect(String(decoding: try await peer.object(bucket, key: "a/master.m3u8"), as: UTF8.self).contains("foreign"))
            #expect(String(decoding: try await peer.object(bucket, key: "a-\(job.id!)/master.m3u8"), as: UTF8.self).contains("mine"))
            #expect(try await peer.objects(bucket).map(\.key).filter { $0.hasPrefix("a/") } == ["a/master.m3u8"])
        }
    }

    /// A job that reached the outbox under a name (then the daemon died) and finds that name's prefix in the bucket
    /// taken by another package moves its outbox copy along to the next free name, in both places.
    @Test func aJobWhoseBucketPrefixWasTakenMovesItsOutboxCopyAlong() async throws {
        let peer = try await MotoPeer.shared.value
        let bucket = try await peer.makeBucket("names")
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            try await uploadForeignPackage(dir, manifest: #"{"job_id": 99}"#, peer: peer, bucket: bucket)
            // This job's package is in the outbox under `a`, recorded, not uploaded yet.
            let job = try await bench.drop("a.mp4", content: "mine")
            _ = try await bench.store.claimNext(now: Date())
            let local = bench.outbox.appendingPathComponent("a")
            try await bench.store.transition(job.id!, .publishing(location: local.path, encoder: "libx264", manifest: nil))
            try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
            try Data("#EXTM3U\n#SOURCE mine\n".utf8).write(to: local.appendingPathComponent("master.m3u8"))
            _ = try PackageStamp.stamp(local, jobID: job.id!, manifestJSON: nil)

            let builder = ScriptedBuilder()
            try await bench.run(scheduler(bench, builder, peer: peer, bucket: bucket), guardTime: .seconds(90)) {
                try await bench.store.counts()[.completed] == 1
            }
            #expect(builder.builds.withLock { $0 }.isEmpty)
            #expect(try outboxFolders(bench) == ["a-\(job.id!)"])
            #expect(try await bench.store.job(job.id!)?.masterLocation?.hasSuffix("/\(bucket)/a-\(job.id!)/master.m3u8") == true)
            #expect(String(decoding: try await peer.object(bucket, key: "a/master.m3u8"), as: UTF8.self).contains("foreign"))
            #expect(PackageStamp.jobID(in: try await peer.object(bucket, key: "a/manifest.json")) == 99)
            #expect(PackageStamp.jobID(in: try await peer.object(bucket, key: "a-\(job.id!)/manifest.json")) == job.id!)
        }
    }
}
