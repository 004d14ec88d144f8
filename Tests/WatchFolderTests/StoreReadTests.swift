import Foundation
import Testing
import WatchFolder

/// What the status server reads through ``JobStore``: the summary and the change ticks.
@Suite struct StoreReadTests {
    struct NoTick: Error {}

    @Test(arguments: Backend.allCases) func summaryCountsJobsDueJobsAndTheLastEvent(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            #expect(try await store.summary() == JobSummary(counts: Dictionary(uniqueKeysWithValues: Job.State.allCases.map { ($0, 0) }),
                                                            due: 0, lastEventID: 0))
            _ = try await store.enqueue([file("1.mp4", inode: 1), file("2.mp4", inode: 2), file("3.mp4", inode: 3)])
            let first = try #require(try await store.claimNext(now: Date()))
            try await store.transition(first.id!, .retry(error: "boom", encoder: nil, delay: 60))
            _ = try #require(try await store.claimNext(now: Date()))
            let summary = try await store.summary()
            #expect(summary.counts[.queued] == 2 && summary.counts[.running] == 1 && summary.counts[.failed] == 0)
            #expect(summary.due == 1)  // 1.mp4 waits for its retry delay
            #expect(try await store.summary(now: Date().addingTimeInterval(61)).due == 2)
            #expect(summary.lastEventID == (try await store.events(after: 0, limit: 100).last?.id))
            #expect(summary.counts == (try await store.counts()))
        }
    }

    @Test(arguments: Backend.allCases) func changesTickAtOnceThenForEventsAndProgress(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let ticks = store.changes()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    throw NoTick()  // a deadline: every tick below comes within milliseconds
                }
                group.addTask {
                    var tick = ticks.makeAsyncIterator()
                    #expect(await tick.next() != nil, "the first tick comes at once")
                    _ = try await store.enqueue([file("a.mp4")])
                    #expect(await tick.next() != nil, "job.queued")
                    let job = try #require(try await store.claimNext(now: Date()))
                    #expect(await tick.next() != nil, "job.started")
                    try await store.updateProgress(job.id!, fraction: 0.05)  // no event below 10 %: progress alone
                    #expect(await tick.next() != nil, "progress")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// The dashboard's reads, sidecars and the effects' bookkeeping, the same on every backend.
    @Test(arguments: Backend.allCases) func dashboardReadsSidecarsAndEffectBookkeeping(_ backend: Backend) async throws {
        try await withStore(backend) { store, dir in
            let subtitles = Sidecar(name: "a.en.srt", format: "srt", language: "en", bytes: 10, device: 7, inode: 11, mtimeNs: 1)
            let metadata = Sidecar(name: "a.json", format: "json", language: nil, bytes: 5, device: 7, inode: 12, mtimeNs: 1)
            var a = file("in/a.mp4", inode: 1)
            a.sidecars = [subtitles, metadata]
            a.metadata = #"{"title":"A"}"#
            let jobs = try await store.enqueue([a, file("b.mp4", inode: 2), file("c.mp4", inode: 3), file("d.mp4", inode: 4)])
            #expect(jobs.count == 4)
            let ids = jobs.compactMap(\.id)
            #expect(try await store.sidecars(job: ids[0]).map(\.name) == ["a.en.srt", "a.json"])
            #expect(try await store.job(ids[0])?.metadata == #"{"title":"A"}"#)

            let first = try #require(try await store.claimNext(now: Date()))
            let second = try #require(try await store.claimNext(now: Date()))
            try await store.transition(second.id!, .retry(error: "boom", encoder: nil, delay: 60))
            #expect(try await store.running(limit: 10).map(\.id) == [first.id])
            #expect(try await store.nextQueued(limit: 10).map(\.id) == [ids[2], ids[3], ids[1]], "due by arrival, then retries")
            let retry = try #require(try await store.nextRetry(after: Date()))
            #expect(abs(retry.timeIntervalSinceNow - 60) < 5)
            #expect(try await store.jobs(in: .queued).map(\.id) == [ids[1], ids[2], ids[3]])
            #expect(try await store.list(state: nil, limit: 2).map(\.id) == [ids[3], ids[2]])
            #expect(try await store.list(state: nil, limit: 10, before: ids[2]).map(\.id) == [ids[1], ids[0]])
            #expect(try await store.list(state: .running, limit: 10).map(\.id) == [first.id])

            // The video fails: its sidecars follow it to the failed folder, in the same transaction.
            let fail = PlannedEffect(.fail, source: dir.appendingPathComponent("in/a.mp4"),
                                     target: dir.appendingPathComponent("failed/a.mp4"), note: "bad")
            try await store.transition(first.id!, .failed(error: "bad", encoder: nil, effect: fail))
            let effects = try await store.pendingEffects(job: first.id!)
            #expect(effects.map(\.kind) == [.fail, .archive, .archive])
            #expect(Set(effects.dropFirst().map(\.source)) == [dir.appendingPathComponent("in/a.en.srt").path,
                                                              dir.appendingPathComponent("in/a.json").path])
            #expect(effects.dropFirst().allSatisfy { $0.target?.hasPrefix(dir.appendingPathComponent("failed").path) == true })
            #expect(try await store.recentlyFinished([.failed, .completed], limit: 5).map(\.id) == [first.id])
            try await store.placeEffect(effects[0].id!, at: dir.appendingPathComponent("failed/a-1.mp4").path)
            #expect(try await store.lastPlacement(job: first.id!, kind: .fail) == dir.appendingPathComponent("failed/a-1.mp4").path)
            for effect in effects { try await store.markEffectDone(effect.id!) }
            #expect(try await store.pendingEffects(job: nil).isEmpty)

            // Retried from the failed folder under the name it was placed at: the job's source takes that name.
            let restore = PlannedEffect(.restore, source: dir.appendingPathComponent("failed/a-1.mp4"),
                                        target: dir.appendingPathComponent("in/a.mp4"))
            try await store.transition(first.id!, .retried(effect: restore))
            let pending = try #require(try await store.pendingEffects(job: first.id!).first)
            try await store.placeEffect(pending.id!, at: dir.appendingPathComponent("in/a-2.mp4").path)
            #expect(try await store.job(first.id!)?.sourcePath == "in/a-2.mp4")
            #expect(try await store.sidecars(job: first.id!).isEmpty, "the retry is the video's alone")
        }
    }
}
