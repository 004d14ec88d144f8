import Foundation
import Testing
import WatchFolder

/// What the status server reads through ``JobStore``: the summary and the change ticks.
@Suite struct StoreReadTests {
    struct NoTick: Error {}

    @Test func summaryCountsJobsDueJobsAndTheLastEvent() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
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

    @Test func changesTickAtOnceThenForEventsAndProgress() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
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
}
