import Foundation
import GRDB
import Logging
import Synchronization
import Testing
@testable import WatchFolder

/// Leases and fencing (README "Nodes and leases"): a running job belongs to the node whose lease it holds; every write
/// that node makes for it carries the lease's token, and the store refuses it once the lease has moved.
@Suite struct LeaseTests {
    // Leases that outlive any test, however loaded the machine: a lease ends in these tests only by ``expire(_:_:)``.
    static let a = NodeIdentity(name: "node-a", leaseSeconds: 600)
    static let b = NodeIdentity(name: "node-b", leaseSeconds: 600)
    /// A node under test in a running scheduler: a heartbeat every second.
    static let running = NodeIdentity(name: "node-a", leaseSeconds: 3)

    /// Makes job `id`'s lease end now, as if its node had stopped renewing it `lease_seconds` ago.
    static func expire(_ store: any JobStore, _ id: Int64) async throws {
        try await expireLease(store, id)
    }

    @Test(arguments: Backend.allCases) func aClaimIsTheNodesLeaseAndEveryWriteOfAnotherLeaseIsRefused(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let queued = try #require(try await store.enqueue([file("a.mp4")]).first)
            #expect(queued.node == nil && JobPayload(queued).json().contains(#""node":null"#))
            let now = Date()
            let claimed = try #require(try await store.claimNext(now: now, node: Self.a))
            let id = try #require(claimed.id)
            let lease = try #require(claimed.leaseToken)
            #expect(claimed.node == "node-a")
            // The lease starts when the claim is written (not before `now`, the time it was asked for).
            let leaseEnd = (claimed.leaseExpiresAt ?? .distantPast).timeIntervalSince(now)
            #expect(leaseEnd >= 600 - 0.01 && leaseEnd < 600 + Date().timeIntervalSince(now) + 0.01, "\(leaseEnd)")
            let started = try #require(try await store.events(after: 0, limit: 10).last)
            #expect(started.type == .started && started.payload.contains(#""node":"node-a""#))

            // node-b cannot take a job whose lease is alive; once it has run out, it can, and node-a's lease is gone.
            #expect(try await store.takeOver(claimed, now: Date(), node: Self.b, previousLife: true) == nil)
            try await Self.expire(store, id)
            let expired = try #require(try await store.job(id))
            let taken = try #require(try await store.takeOver(expired, now: Date(), node: Self.b, previousLife: false))
            #expect(taken.node == "node-b" && taken.leaseToken != lease)
            // A second taker with the stale view gets nothing: one node wins.
            #expect(try await store.takeOver(expired, now: Date(), node: Self.a, previousLife: false) == nil)

            let eventsBefore = try await store.events(after: 0, limit: 100).count
            await #expect(throws: StoreError.self) {
                try await store.transition(id, .publishing(location: "a", encoder: "libx264", manifest: "{}"), lease: lease)
            }
            await #expect(throws: StoreError.self) {
                try await store.updateProgress(id, fraction: 0.9, speed: 1, eta: 1, lease: lease)
            }
            let after = try #require(try await store.job(id))
            #expect(after.state == .running && after.progress == 0 && after.node == "node-b")
            #expect(try await store.events(after: 0, limit: 100).count == eventsBefore, "the refused writes left no event")

            // node-b's writes go through; the lease ends with the run, the node stays on record.
            _ = try await store.transition(id, .publishing(location: "a", encoder: "libx264", manifest: "{}"),
                                                 lease: taken.leaseToken)
            let done = try await store.transition(id, .completed(location: "a", master: nil, effect: nil), lease: taken.leaseToken)
            #expect(done.node == "node-b" && done.leaseToken == nil && done.leaseExpiresAt == nil)
            let completed = try #require(try await store.events(after: 0, limit: 100).last)
            #expect(completed.type == .completed && completed.payload.contains(#""node":"node-b""#))
        }
    }

    @Test(arguments: Backend.allCases) func aRequeuedJobHasNoNodeAndAStartingNodeTakesBackOnlyItsOwnOrExpiredJobs(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.enqueue([file("a.mp4", inode: 1), file("b.mp4", inode: 2), file("c.mp4", inode: 3)])
            let mine = try #require(try await store.claimNext(now: Date(), node: Self.a))
            let live = try #require(try await store.claimNext(now: Date(), node: Self.b))
            let dead = try #require(try await store.claimNext(now: Date(), node: Self.b))
            try await Self.expire(store, dead.id ?? 0)
            let stale = try #require(try await store.job(dead.id ?? 0))
            // node-a starting again: its own previous life's job at once, node-b's only once its lease ran out.
            #expect(try await store.takeOver(mine, now: Date(), node: Self.a, previousLife: true) != nil)
            #expect(try await store.takeOver(live, now: Date(), node: Self.a, previousLife: true) == nil)
            #expect(try await store.takeOver(stale, now: Date(), node: Self.a, previousLife: true) != nil)
            let requeued = try await store.transition(live.id ?? 0, .requeued(refund: false), lease: live.leaseToken)
            #expect(requeued.node == nil && requeued.leaseToken == nil && requeued.state == .queued)
            #expect(JobPayload(requeued).json().contains(#""node":null"#))
        }
    }

    @Test(arguments: Backend.allCases) func aHeartbeatRenewsTheNodesLeasesReportsLostOnesAndShowsTheNodeUpThenGone(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.enqueue([file("a.mp4", inode: 1), file("b.mp4", inode: 2), file("c.mp4", inode: 3)])
            let one = try #require(try await store.claimNext(now: Date(), node: Self.a))
            let two = try #require(try await store.claimNext(now: Date(), node: Self.a))
            let other = try #require(try await store.claimNext(now: Date(), node: Self.b))
            // node-b's job ran out; node-a's second job was taken over by node-b meanwhile.
            try await Self.expire(store, other.id ?? 0)
            try await Self.expire(store, two.id ?? 0)
            let stale = try #require(try await store.job(two.id ?? 0))
            _ = try #require(try await store.takeOver(stale, now: Date(), node: Self.b, previousLife: false))

            let later = Date(timeIntervalSinceNow: 2)
            let beat = try await store.heartbeat(node: Self.a, leases: [one.id!: one.leaseToken!, two.id!: two.leaseToken!],
                                                       encoder: "libx264", now: later)
            #expect(beat.lost == [two.id!])
            #expect(beat.expired.map(\.id) == [other.id])
            let renewed = try #require(try await store.job(one.id ?? 0))
            #expect(abs((renewed.leaseExpiresAt ?? .distantPast).timeIntervalSince(later) - 600) < 0.01)

            var nodes = try await store.nodes(now: later)
            #expect(nodes.map(\.name) == ["node-a"], "a node that never beat is not listed")
            #expect(nodes.first?.state == .up && nodes.first?.running == [one.id!] && nodes.first?.encoder == "libx264")
            #expect(nodes.first?.version == WatchFolderVersion.string)
            // A missed lease, or a graceful stop: gone.
            #expect(try await store.nodes(now: later.addingTimeInterval(601)).first?.state == .gone)
            try await store.leave(node: Self.a, now: later)
            nodes = try await store.nodes(now: later)
            #expect(nodes.first?.state == .gone)
            let json = String(decoding: try JSONEncoder().encode(nodes), as: UTF8.self)
            for key in ["name", "heartbeat_at", "running", "encoder", "version", "state"] { #expect(json.contains("\"\(key)\"")) }
            // Beating again brings it back.
            _ = try await store.heartbeat(node: Self.a, leases: [:], encoder: nil, now: later)
            #expect(try await store.nodes(now: later).first?.state == .up)
        }
    }

    /// A node whose job was taken over while it was frozen stops it at its next heartbeat and writes nothing for it:
    /// no progress, no publish, no package, no event.
    @Test(.timeLimit(.minutes(1))) func aNodeThatLostItsLeaseStopsTheJobAndWritesNothing() async throws {
        try await withTempDir { dir in
            var configured = try Bench(root: dir)
            configured.settings.node = Self.running
            let bench = configured
            let job = try await bench.drop("slow.mp4")
            let id = try #require(job.id)
            let builder = ScriptedBuilder()
            let scheduler = bench.scheduler(builder)
            let taken = Mutex<Job?>(nil)
            let eventsAtTakeOver = Mutex(0)
            let noticed = Mutex(false)
            try await bench.run(scheduler, guardTime: .seconds(30)) {
                if taken.withLock({ $0 }) == nil {
                    guard let running = try await bench.store.job(id), running.state == .running, running.progress > 0 else { return false }
                    try await Self.expire(bench.store, id)
                    let stale = try #require(try await bench.store.job(id))
                    // node-b's lease outlives the test: node-a must not take the job back.
                    let mine = try await bench.store.takeOver(stale, now: Date(), node: Self.b, previousLife: false)
                    let count = try await bench.store.events(after: 0, limit: 100).count
                    eventsAtTakeOver.withLock { $0 = count }
                    taken.withLock { $0 = mine }
                    return false
                }
                // node-a noticed: its build was stopped.
                let stopped = builder.active.withLock { $0 } == 0 && scheduler.runningJobs.isEmpty
                if stopped { noticed.withLock { $0 = true } }
                return stopped
            }
            #expect(noticed.withLock { $0 }, "node-a's build still ran when the guard time was up")
            let b = try #require(taken.withLock { $0 })
            let now = try #require(try await bench.store.job(id))
            #expect(now.state == .running && now.node == "node-b" && now.leaseToken == b.leaseToken)
            let events = try await bench.store.events(after: 0, limit: 100).map(\.type)
            #expect(events.count == eventsAtTakeOver.withLock { $0 } && !events.contains(.completed),
                    "node-a wrote nothing after it lost the lease: \(events)")
            #expect(try await bench.store.job(id)?.progress == 0.5, "the progress node-a had reached, not more")
            #expect(!bench.exists("outbox/slow"))
            #expect(try await bench.store.nodes(now: Date()).first { $0.name == "node-a" }?.state == .gone, "it left at shutdown")
        }
    }

    /// Another node's job whose lease ran out (its node died) is taken over by the next heartbeat: requeued with
    /// the attempt counted, then run here to completion.
    @Test(.timeLimit(.minutes(1))) func aDeadNodesJobIsTakenOverAfterItsLeaseAndCompletesHere() async throws {
        try await withTempDir { dir in
            var configured = try Bench(root: dir, maxAttempts: 3)
            // node-a's own lease is long enough for a starved test process to renew it (with 3 s, a clean-clone
            // run's node-a missed its own renewal and took its own job over once more: attempts 3); its heartbeat
            // comes every 5 s.
            configured.settings.node = NodeIdentity(name: "node-a", leaseSeconds: 15)
            let bench = configured
            try await bench.drop("a.mp4")
            // node-b dies with the job: its 3 s lease runs out.
            let dead = try #require(try await bench.store.claimNext(now: Date(), node: NodeIdentity(name: "node-b", leaseSeconds: 3)))
            let builder = ScriptedBuilder()
            try await bench.run(bench.scheduler(builder)) { try await bench.store.counts()[.completed] == 1 }
            let done = try #require(try await bench.store.job(dead.id ?? 0))
            #expect(done.state == .completed && done.node == "node-a" && done.attempts == 2)
            #expect(bench.exists("outbox/a/master.m3u8"))
        }
    }

    /// The job of a node that is alive is not taken at start, however the starting node is configured.
    @Test(.timeLimit(.minutes(1))) func aStartingNodeLeavesALiveNodesJobAlone() async throws {
        try await withTempDir { dir in
            var configured = try Bench(root: dir)
            configured.settings.node = Self.running
            let bench = configured
            try await bench.drop("a.mp4")
            let live = try #require(try await bench.store.claimNext(now: Date(), node: Self.b))
            try await bench.drop("b.mp4")
            try await bench.run(bench.scheduler(ScriptedBuilder())) { try await bench.store.counts()[.completed] == 1 }
            let still = try #require(try await bench.store.job(live.id ?? 0))
            #expect(still.state == .running && still.node == "node-b" && still.leaseToken == live.leaseToken && still.attempts == 1)
        }
    }
}
