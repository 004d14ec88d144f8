import Foundation
import Logging
import Pipeline
import ServiceLifecycleTestKit
import Synchronization
import Testing
@testable import WatchFolder

/// A package builder with scripted behaviour by file name, for the scheduling logic (the real engine is
/// exercised end to end through the binary): `broken*` fails, `slow*` runs until stopped, anything else writes
/// a tiny package after `delay`.
final class ScriptedBuilder: PackageBuilder {
    let delay: Duration
    let active = Mutex(0)
    let peak = Mutex(0)
    let builds = Mutex<[String]>([])
    /// The encoder reported for successful builds.
    let encoder: String

    init(delay: Duration = .milliseconds(150), encoder: String = "libx264") {
        self.delay = delay
        self.encoder = encoder
    }

    func build(_ request: BuildRequest, progress: @escaping @Sendable (TranscodeProgress) -> Void) async throws -> BuiltPackage {
        let half = TranscodeProgress(fraction: 0.5, mediaSeconds: 1, speed: 2, eta: 1)
        let name = request.source.lastPathComponent
        builds.withLock { $0.append(name) }
        let now = active.withLock { $0 += 1; return $0 }
        peak.withLock { $0 = max($0, now) }
        defer { active.withLock { $0 -= 1 } }
        try FileManager.default.createDirectory(at: request.work, withIntermediateDirectories: true)
        try Data("scratch".utf8).write(to: request.work.appendingPathComponent("scratch.bin"))
        if name.hasPrefix("broken") { throw ScriptedFailure(description: "no video stream in \(name)") }
        if name.hasPrefix("slow") {
            while true { try await Task.sleep(for: .milliseconds(20)); progress(half) }
        }
        progress(half)
        try await Task.sleep(for: delay)
        try FileManager.default.createDirectory(at: request.output, withIntermediateDirectories: true)
        // The source's bytes in a comment: each package shows which upload it was made from.
        let content = (try? String(contentsOf: request.source, encoding: .utf8)) ?? ""
        try Data("#EXTM3U\n#SOURCE \(content)\n".utf8).write(to: request.output.appendingPathComponent("master.m3u8"))
        return BuiltPackage(encoder: encoder, manifestJSON: #"{"renditions":[{"height":360}]}"#)
    }
}

/// A build that failed, as the engine's errors read: one line, no encoder (the engine itself replaces a failing GPU
/// encoder by libx264 within the attempt).
struct ScriptedFailure: Error, CustomStringConvertible {
    var description: String
}

/// Folders and a store for one scheduler under test.
struct Bench {
    let root: URL
    let store: SQLiteJobStore
    var settings: SchedulerSettings
    var inbox: URL { root.appendingPathComponent("inbox") }
    var outbox: URL { root.appendingPathComponent("outbox") }

    init(root: URL, concurrency: Int = 1, maxAttempts: Int = 2, onSuccess: Config.Inbox.OnSuccess = .archive) throws {
        self.root = root
        var config = Config(
            inbox: .init(path: root.appendingPathComponent("inbox"), failedPath: root.appendingPathComponent("failed")),
            state: .init(path: root.appendingPathComponent("state")),
            outbox: .init(path: root.appendingPathComponent("outbox")),
            transcode: .init(), s3: nil, webhooks: [], http: .init(), log: .init(), sourcePath: "test")
        config.inbox.archivePath = root.appendingPathComponent("archive")
        config.inbox.onSuccess = onSuccess
        config.transcode.concurrency = concurrency
        config.transcode.maxAttempts = maxAttempts
        settings = SchedulerSettings(config: config)
        settings.retryBackoffSeconds = 0.05
        settings.shutdownGraceSeconds = 0.3
        store = try SQLiteJobStore(url: config.state.databaseURL)
        for dir in [inbox, outbox] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    }

    /// Writes `path` into the inbox (`content`, by default `video <path>`) and records it.
    @discardableResult
    func drop(_ path: String, content: String? = nil) async throws -> Job {
        let url = inbox.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data((content ?? "video \(path)").utf8).write(to: url)
        let file = try #require(InboxFile.stat(path, in: inbox))
        return try #require(try await store.enqueue([file]).first)
    }

    func scheduler(_ builder: any PackageBuilder) -> Scheduler {
        Scheduler(store: store, builder: builder, publisher: OutboxPublisher(root: outbox, layout: "{dir}/{stem}"),
                  settings: settings, logger: Logger(label: "test"))
    }

    /// Runs `scheduler` until `until` holds and the file moves it committed are carried out (or `guardTime`, a hang
    /// guard: the tests assert what happened, not when), then shuts it down gracefully. A move is carried out after
    /// its transition commits: a shutdown in between leaves it for the next start, and the source still in the
    /// inbox, held by its job (on a loaded machine the gap is long enough for a test to fall into).
    func run(_ scheduler: Scheduler, guardTime: Duration = .seconds(20),
             until: @escaping @Sendable () async throws -> Bool) async throws {
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scheduler.run() }
                let deadline = ContinuousClock.now + guardTime
                while ContinuousClock.now < deadline {
                    if try await until(), try await store.pendingEffects(job: nil).isEmpty { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path) }
}

@Suite(.timeLimit(.minutes(1))) struct SchedulerTests {
    @Test func runsAtMostConcurrencyJobsFIFOPublishesAndArchives() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir, concurrency: 2)
            for name in ["a.mp4", "b.mp4", "c.mp4", "d/e.mp4"] { try await bench.drop(name) }
            let builder = ScriptedBuilder()
            try await bench.run(bench.scheduler(builder)) { try await bench.store.counts()[.completed] == 4 }
            #expect(builder.peak.withLock { $0 } == 2)
            #expect(builder.builds.withLock { $0 } .prefix(2).sorted() == ["a.mp4", "b.mp4"])
            for package in ["outbox/a", "outbox/b", "outbox/c", "outbox/d/e"] {
                #expect(bench.exists(package + "/master.m3u8"), "\(package)")
            }
            for source in ["archive/a.mp4", "archive/d/e.mp4"] { #expect(bench.exists(source)) }
            #expect(!bench.exists("inbox/a.mp4") && !bench.exists("inbox/d/e.mp4"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: bench.settings.workRoot.path).isEmpty)
            let job = try #require(try await bench.store.list(state: .completed, limit: 10).first { $0.sourcePath == "a.mp4" })
            #expect(job.encoder == "libx264" && job.masterLocation == dir.appendingPathComponent("outbox/a/master.m3u8").path)
            #expect(try await eventTypes(bench.store, job: job.id!) == ["job.queued", "job.started", "job.progress", "job.completed"])
        }
    }

    @Test func anExistingPackageIsNeverOverwritten() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir, onSuccess: .delete)
            try FileManager.default.createDirectory(at: bench.outbox.appendingPathComponent("clip"), withIntermediateDirectories: true)
            try Data("old".utf8).write(to: bench.outbox.appendingPathComponent("clip/master.m3u8"))
            let job = try await bench.drop("clip.mp4")
            try await bench.run(bench.scheduler(ScriptedBuilder())) { try await bench.store.counts()[.completed] == 1 }
            #expect(try String(contentsOf: bench.outbox.appendingPathComponent("clip/master.m3u8"), encoding: .utf8) == "old")
            #expect(bench.exists("outbox/clip-\(job.id!)/master.m3u8"))
            #expect(!bench.exists("inbox/clip.mp4"))  // on_success = delete
        }
    }

    @Test func aBrokenFileIsRetriedThenFailedAndMovedWithItsErrorFile() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir, maxAttempts: 2)
            let job = try await bench.drop("sub/broken.mp4")
            let builder = ScriptedBuilder()
            try await bench.run(bench.scheduler(builder)) { try await bench.store.counts()[.failed] == 1 }
            #expect(builder.builds.withLock { $0 } == ["broken.mp4", "broken.mp4"])
            #expect(bench.exists("failed/sub/broken.mp4") && !bench.exists("inbox/sub/broken.mp4"))
            let note = try String(contentsOf: dir.appendingPathComponent("failed/sub/broken.mp4.error.txt"), encoding: .utf8)
            #expect(note.contains("reason: no video stream in broken.mp4"))
            #expect(note.contains("attempts: 2"))
            #expect(note.contains("encoder: none"))  // the engine reports no encoder with a failure
            #expect(try await eventTypes(bench.store, job: job.id!)
                == ["job.queued", "job.started", "job.retrying", "job.started", "job.failed"])
        }
    }

    @Test func recoversWhatAPreviousLifeLeftRunningOrPublishing() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir, maxAttempts: 2)
            // A job killed mid-transcode: requeued, its work folder removed, built again.
            let interrupted = try await bench.drop("interrupted.mp4")
            _ = try await bench.store.claimNext(now: Date())
            let leftovers = bench.settings.workDirectory(interrupted.id!).appendingPathComponent("tmp")
            try FileManager.default.createDirectory(at: leftovers, withIntermediateDirectories: true)
            try Data("half".utf8).write(to: leftovers.appendingPathComponent("seg.ts"))
            // A job killed after its package was published but before it was recorded: completed, not rebuilt.
            let published = try await bench.drop("published.mp4")
            _ = try await bench.store.claimNext(now: Date())
            let location = bench.outbox.appendingPathComponent("published").path
            try await bench.store.transition(published.id!, .publishing(location: location, encoder: "libx264", manifest: nil))
            try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
            try Data("#EXTM3U\n".utf8).write(to: URL(fileURLWithPath: location).appendingPathComponent("master.m3u8"))
            try Data(#"{"job_id": \#(published.id!)}"#.utf8).write(to: URL(fileURLWithPath: location).appendingPathComponent("manifest.json"))
            // A file that killed the daemon on every attempt: failed at the next start.
            let killer = try await bench.drop("killer.mp4")
            for _ in 0..<2 {
                _ = try await bench.store.claimNext(now: Date())
                try await bench.store.transition(killer.id!, .requeued(refund: false))
            }
            _ = try await bench.store.claimNext(now: Date())  // attempt 2 also "crashes"
            let builder = ScriptedBuilder()
            try await bench.run(bench.scheduler(builder)) {
                let c = try await bench.store.counts()
                return c[.completed] == 2 && c[.failed] == 1
            }
            #expect(builder.builds.withLock { $0 } == ["interrupted.mp4"])
            #expect(try await bench.store.job(killer.id!)?.error?.contains("daemon stopped") == true)
            #expect(bench.exists("failed/killer.mp4.error.txt") && bench.exists("archive/published.mp4"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: bench.settings.workRoot.path).isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: bench.outbox.path).sorted() == ["interrupted", "published"])
        }
    }

    @Test func aCancelRequestStopsTheRunningJobAndKeepsItsSource() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            let job = try await bench.drop("slow.mp4")
            let builder = ScriptedBuilder()
            let scheduler = bench.scheduler(builder)
            try await bench.run(scheduler) {
                if try await bench.store.job(job.id!)?.state == .running, builder.active.withLock({ $0 }) == 1 {
                    _ = try await bench.store.requestCancel(job.id!)
                }
                return try await bench.store.job(job.id!)?.state == .cancelled
            }
            #expect(builder.active.withLock { $0 } == 0)
            #expect(bench.exists("inbox/slow.mp4"))
            #expect(try await eventTypes(bench.store, job: job.id!).last == "job.cancelled")
        }
    }

    @Test func gracefulShutdownRequeuesJobsStillRunningAfterTheGracePeriod() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            let job = try await bench.drop("slow.mp4")
            let builder = ScriptedBuilder()
            let started = ContinuousClock.now
            try await bench.run(bench.scheduler(builder)) { builder.active.withLock { $0 } == 1 }
            #expect(ContinuousClock.now - started < .seconds(15))  // the job never ends by itself
            let after = try #require(try await bench.store.job(job.id!))
            #expect(after.state == .queued && after.attempts == 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: bench.settings.workRoot.path).isEmpty)
        }
    }

    @Test func gpuConcurrencyAddsSlotsWhileAGPUEncoderIsInUse() async throws {
        try await withTempDir { dir in
            var setup = try Bench(root: dir, concurrency: 1)
            setup.settings.gpuConcurrency = 1
            let bench = setup
            try await bench.drop("first.mp4")
            let builder = ScriptedBuilder(delay: .milliseconds(300), encoder: "h264_nvenc")
            let scheduler = bench.scheduler(builder)
            try await bench.run(scheduler) {
                let completed = try await bench.store.counts()[.completed] ?? 0
                // Once: the condition still holds when it is asked again before the scheduler claims g1 (under load).
                if completed == 1, builder.builds.withLock({ $0.count }) == 1, !bench.exists("inbox/g1.mp4") {
                    // Recorded together: the pool, woken by that one commit, finds them all queued and fills both slots
                    // (one by one, g1 could end before g2 was recorded on a loaded machine).
                    let files = try ["g1.mp4", "g2.mp4", "g3.mp4"].map { name in
                        try Data("video \(name)".utf8).write(to: bench.inbox.appendingPathComponent(name))
                        return try #require(InboxFile.stat(name, in: bench.inbox))
                    }
                    _ = try await bench.store.enqueue(files)
                }
                return completed == 4
            }
            #expect(builder.peak.withLock { $0 } == 2)
        }
    }

    @Test func outboxLayoutTokens() {
        let date = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01 UTC
        let info = PackageInfo(jobID: 42, sourcePath: "shows/ep1.final.mov", createdAt: date)
        #expect(OutboxLayout.render("{yyyy}/{mm}/{dd}/{stem}-{id}", info) == "2026/01/01/ep1.final-42")
        #expect(OutboxLayout.render("{dir}/{stem}", info) == "shows/ep1.final")
        #expect(OutboxLayout.render("{dir}/{stem}", PackageInfo(jobID: 1, sourcePath: "a.mp4", createdAt: date)) == "a")
    }
}
