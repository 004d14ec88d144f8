import Foundation
import Logging
import Synchronization
import Testing
@testable import WatchFolder

/// Names are reservations: a package, an archived source, a failed file or a restored source never replaces
/// anything, and a job only ever counts as published with a package whose manifest names it. Real files, real
/// SQLite, the scheduler with a scripted builder.
@Suite(.timeLimit(.minutes(1))) struct NameReservationTests {
    private func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    private func manifestJobID(_ folder: URL) throws -> Int64? {
        PackageStamp.jobID(in: try Data(contentsOf: folder.appendingPathComponent("manifest.json")))
    }

    /// Another builder's manifest is stamped with its job and otherwise kept as it was (keys, integers, nulls).
    @Test func anotherBuildersManifestKeepsWhatItHoldsAndNamesItsJob() async throws {
        try await withTempDir { dir in
            let held = #"{"custom":{"n":3,"list":[1,2.5,"s",null,true]},"renditions":[{"height":360}]}"#
            try Data(held.utf8).write(to: dir.appendingPathComponent("manifest.json"))
            let compact = try PackageStamp.stamp(dir, jobID: 5, manifestJSON: nil)
            #expect(compact == #"{"custom":{"list":[1,2.5,"s",null,true],"n":3},"job_id":5,"renditions":[{"height":360}]}"#)
            #expect(try manifestJobID(dir) == 5)
            let empty = dir.appendingPathComponent("empty")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            #expect(try PackageStamp.stamp(empty, jobID: 6, manifestJSON: nil) == #"{"job_id":6}"#)
        }
    }

    @Test func threeDropsWhoseNamesCollideGiveThreePackagesAndThreeArchivedSources() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            let builder = ScriptedBuilder()
            // clip.mp4 (job 1, outbox clip/), clip-3.mp4 (job 2, clip-3/), clip.mp4 again (job 3): its `-3` name is
            // job 2's package and archived source.
            var ids: [Int64] = []
            for (n, name) in ["clip.mp4", "clip-3.mp4", "clip.mp4"].enumerated() {
                ids.append(try await bench.drop(name, content: "upload \(n + 1)").id!)
                try await bench.run(bench.scheduler(builder)) { try await bench.store.counts()[.completed] == n + 1 }
            }
            #expect(ids == [1, 2, 3])
            let expected = [(1, "clip", "clip.mp4"), (2, "clip-3", "clip-3.mp4"), (3, "clip-3-2", "clip-3-2.mp4")]
            #expect(try FileManager.default.contentsOfDirectory(atPath: bench.outbox.path).sorted() == expected.map(\.1))
            let archived = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("archive").path).sorted()
            #expect(archived == expected.map(\.2).sorted())
            for (n, folder, archived) in expected {
                let package = bench.outbox.appendingPathComponent(folder)
                #expect(try text(package.appendingPathComponent("master.m3u8")).contains("#SOURCE upload \(n)"), "\(folder)")
                #expect(try manifestJobID(package) == Int64(n))
                #expect(try text(dir.appendingPathComponent("archive/\(archived)")) == "upload \(n)")
                let job = try #require(try await bench.store.job(Int64(n)))
                #expect(job.outputLocation == package.path && job.masterLocation == package.appendingPathComponent("master.m3u8").path)
                #expect(try await eventTypes(bench.store, job: Int64(n)).filter { $0 == "job.completed" }.count == 1)
            }
        }
    }

    @Test func twoFailedUploadsOfOneNameAreBothKeptWithTheirReasons() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir, maxAttempts: 1)
            let builder = ScriptedBuilder()
            for n in 1...2 {
                try await bench.drop("sub/broken.mp4", content: "broken upload \(n)")
                try await bench.run(bench.scheduler(builder)) { try await bench.store.counts()[.failed] == n }
            }
            let failed = dir.appendingPathComponent("failed/sub")
            #expect(try FileManager.default.contentsOfDirectory(atPath: failed.path).sorted()
                == ["broken-2.mp4", "broken-2.mp4.error.txt", "broken.mp4", "broken.mp4.error.txt"])
            #expect(try text(failed.appendingPathComponent("broken.mp4")) == "broken upload 1")
            #expect(try text(failed.appendingPathComponent("broken-2.mp4")) == "broken upload 2")
            #expect(try text(failed.appendingPathComponent("broken.mp4.error.txt")).contains("job: 1\n"))
            let second = try text(failed.appendingPathComponent("broken-2.mp4.error.txt"))
            #expect(second.contains("job: 2\n") && second.contains("reason: no video stream in broken.mp4"))
        }
    }

    @Test func aRetryWhoseInboxNameIsTakenRestoresTheSourceUnderTheJobsIDAndSaysSo() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir, maxAttempts: 1)
            let builder = ScriptedBuilder()
            let job = try await bench.drop("broken.mp4", content: "the failed upload")
            try await bench.run(bench.scheduler(builder)) { try await bench.store.counts()[.failed] == 1 }
            // A newer upload under the same name, not recorded yet.
            try Data("a newer upload".utf8).write(to: bench.inbox.appendingPathComponent("broken.mp4"))

            let outcome = try await JobRetry.run(job.id!, store: bench.store, settings: bench.settings, logger: Logger(label: "test"))
            #expect(outcome.restoredAs == "broken-1.mp4" && !outcome.movePending)
            #expect(outcome.message == "job 1 requeued: broken.mp4 is taken in the inbox, so its source was restored as broken-1.mp4")
            #expect(outcome.job.state == .queued && outcome.job.sourcePath == "broken-1.mp4")
            #expect(try text(bench.inbox.appendingPathComponent("broken.mp4")) == "a newer upload")
            #expect(try text(bench.inbox.appendingPathComponent("broken-1.mp4")) == "the failed upload")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("failed").path).isEmpty)

            // Intake reports both names: the restored one is the retried job's file, the newer upload a new job.
            let restored = try #require(InboxFile.stat("broken-1.mp4", in: bench.inbox))
            let newer = try #require(InboxFile.stat("broken.mp4", in: bench.inbox))
            let created = try await bench.store.enqueue([restored, newer])
            #expect(created.map(\.sourcePath) == ["broken.mp4"])
            #expect(try await bench.store.job(job.id!)?.sourcePath == "broken-1.mp4")
        }
    }

    @Test func aPublishingJobWhoseRecordedNameHoldsAnotherJobsPackagePublishesItsOwn() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir)
            // Another job's package (job 9, say) already under the name this job recorded before a crash.
            let other = bench.outbox.appendingPathComponent("clip")
            try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
            try Data("#EXTM3U\n#SOURCE someone else\n".utf8).write(to: other.appendingPathComponent("master.m3u8"))
            try Data(#"{"job_id": 9}"#.utf8).write(to: other.appendingPathComponent("manifest.json"))
            let job = try await bench.drop("clip.mp4", content: "mine")
            _ = try await bench.store.claimNext(now: Date())
            try await bench.store.transition(job.id!, .publishing(location: other.path, encoder: "libx264", manifest: nil))
            let package = bench.settings.workDirectory(job.id!).appendingPathComponent("package")
            try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
            try Data("#EXTM3U\n#SOURCE mine\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
            _ = try PackageStamp.stamp(package, jobID: job.id!, manifestJSON: nil)

            let builder = ScriptedBuilder()
            try await bench.run(bench.scheduler(builder)) { try await bench.store.counts()[.completed] == 1 }
            #expect(builder.builds.withLock { $0 }.isEmpty, "resumed from the work folder, not built again")
            let mine = bench.outbox.appendingPathComponent("clip-\(job.id!)")
            #expect(try await bench.store.job(job.id!)?.outputLocation == mine.path)
            #expect(try text(mine.appendingPathComponent("master.m3u8")).contains("#SOURCE mine"))
            #expect(try text(other.appendingPathComponent("master.m3u8")).contains("someone else"))
            #expect(try manifestJobID(other) == 9)
        }
    }

    @Test func aCrashAfterAMoveAcrossFilesystemsFinishesItWithoutASecondCopy() async throws {
        // /dev/shm is a tmpfs: the archive there is another filesystem than the temporary folder.
        let shm = URL(fileURLWithPath: "/dev/shm")
        guard let shmDevice = try? FileManager.default.attributesOfItem(atPath: shm.path)[.systemNumber] as? Int,
              let tmpDevice = try? FileManager.default.attributesOfItem(atPath: FileManager.default.temporaryDirectory.path)[.systemNumber] as? Int,
              shmDevice != tmpDevice else {
            Issue.record("needs /dev/shm on another filesystem than \(FileManager.default.temporaryDirectory.path)")
            return
        }
        try await withTempDir { dir in
            let archive = shm.appendingPathComponent("wf-archive-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: archive) }
            let bench = try Bench(root: dir)
            let job = try await bench.drop("clip.mp4", content: "across")
            let source = bench.inbox.appendingPathComponent("clip.mp4")
            var effect = FileEffect(jobId: job.id!, kind: .archive, source: source, target: archive.appendingPathComponent("clip.mp4"),
                                    device: job.device, inode: job.inode)
            effect.id = 77
            // The name was chosen and the copy linked into place, then the process died before removing the source.
            effect.placed = archive.appendingPathComponent("clip.mp4").path
            try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
            let staging = NoReplaceMove.staging(for: archive.appendingPathComponent("clip.mp4"), tag: "e77")
            try FileManager.default.copyItem(at: source, to: staging)
            try FileOps.link(staging.path, archive.appendingPathComponent("clip.mp4").path)

            #expect(try FileEffectRunner.apply(effect) == .done)
            #expect(try FileManager.default.contentsOfDirectory(atPath: archive.path) == ["clip.mp4"])
            #expect(try text(archive.appendingPathComponent("clip.mp4")) == "across")
            #expect(!FileManager.default.fileExists(atPath: source.path))

            // A plain move across filesystems to a taken name picks the next free one and never replaces it.
            let second = try await bench.drop("other.mp4", content: "second")
            let otherSource = bench.inbox.appendingPathComponent("other.mp4")
            var next = FileEffect(jobId: second.id!, kind: .archive, source: otherSource, target: archive.appendingPathComponent("clip.mp4"),
                                  device: second.device, inode: second.inode)
            next.id = 78
            guard case let .place(free) = try FileEffectRunner.apply(next) else { Issue.record("no name chosen"); return }
            #expect(free.lastPathComponent == "clip-\(second.id!).mp4")
            next.placed = free.path
            #expect(try FileEffectRunner.apply(next) == .done)
            #expect(try text(archive.appendingPathComponent("clip.mp4")) == "across")
            #expect(try text(free) == "second")
            #expect(try FileManager.default.contentsOfDirectory(atPath: archive.path).sorted() == ["clip-\(second.id!).mp4", "clip.mp4"])
        }
    }

    @Test func eachEffectRunAgainAfterACrashConvergesOnTheNameItChose() async throws {
        try await withTempDir { dir in
            let bench = try Bench(root: dir, maxAttempts: 1)
            let job = try await bench.drop("a.mp4", content: "mine")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("archive"), withIntermediateDirectories: true)
            try Data("taken".utf8).write(to: dir.appendingPathComponent("archive/a.mp4"))
            _ = try await bench.store.claimNext(now: Date())
            try await bench.store.transition(job.id!, .publishing(location: bench.outbox.appendingPathComponent("a").path,
                                                                  encoder: nil, manifest: nil))
            try await bench.store.transition(job.id!, .completed(location: "x", master: nil, effect: bench.settings.successEffect(for: job)))
            var effect = try #require(try await bench.store.pendingEffects(job: job.id!).first)
            // First run: the name is chosen (a.mp4 is taken) and recorded; the process dies before the move.
            guard case let .place(chosen) = try FileEffectRunner.apply(effect) else { Issue.record("no name chosen"); return }
            try await bench.store.placeEffect(effect.id!, at: chosen.path)
            effect = try #require(try await bench.store.pendingEffects(job: job.id!).first)
            #expect(effect.placed == dir.appendingPathComponent("archive/a-1.mp4").path)
            // Second run moves; a third (the first died before marking it done) finds it moved and stops.
            #expect(try FileEffectRunner.apply(effect) == .done)
            #expect(try FileEffectRunner.apply(effect) == .done)
            #expect(try text(dir.appendingPathComponent("archive/a.mp4")) == "taken")
            #expect(try text(dir.appendingPathComponent("archive/a-1.mp4")) == "mine")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("archive").path).count == 2)
        }
    }
}
