import Foundation
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// `GET /api/dashboard` with a real Monday morning: thousands of queued files behind a running job.
@Suite struct StatusDashboardDataTests {
    @Test func sectionsAreRightAndBoundedWithThousandsQueued() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let store = bench.store
            let early = try await store.enqueue((1...3).map { file("early\($0).mp4", inode: UInt64($0)) })
            let done = try #require(try await store.claimNext(now: Date())?.id)
            try await store.transition(done, .publishing(location: "/o/\(done)", encoder: "libx264", manifest: nil))
            try await store.transition(done, .completed(location: "/o/\(done)", master: nil, effect: nil))
            let failed = try #require(try await store.claimNext(now: Date())?.id)
            try await store.transition(failed, .failed(error: "decoder exploded", encoder: nil, effect: nil))
            let running = try #require(try await store.claimNext(now: Date())?.id)
            #expect([done, failed, running] == early.compactMap(\.id))
            var queued: [Int64] = []
            for batch in stride(from: 0, to: 3000, by: 500) {
                let files = (batch..<batch + 500).map { file("monday/\($0).mp4", inode: UInt64(100 + $0)) }
                queued += try await store.enqueue(files).compactMap(\.id)
            }
            let firstQueued = Array(queued.prefix(DashboardView.nextLimit))
            try await withStatusServer(bench.server()) { client async throws in
                let body = try await client.get("/api/dashboard").json()
                func ids(_ key: String) -> [Int64] {
                    (body[key] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
                }
                #expect(ids("running") == [running])
                #expect(ids("next") == firstQueued)
                #expect((body["more_queued"] as? Int) == 3000 - DashboardView.nextLimit)
                #expect(ids("completed") == [done])
                #expect(ids("failed") == [failed])
                let page = try await client.get("/").text
                #expect(page.contains("/api/dashboard") && page.contains("more_queued"))
            }
        }
    }

    /// Speed and ETA come from the engine's progress, recorded with the job: the status server never opens the
    /// source (here it is gone from the inbox, and still the figures show).
    @Test func speedAndETAAreTheRecordedOnes() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let job = try await bench.drop("clip.mp4")
            let id = try #require(job.id)
            _ = try #require(try await bench.store.claimNext(now: Date()))
            try FileManager.default.removeItem(at: bench.inbox.appendingPathComponent("clip.mp4"))
            try await bench.store.updateProgress(id, fraction: 0.4, speed: 2.5, eta: 12)
            try await withStatusServer(bench.server()) { client async throws in
                let body = try await client.get("/api/jobs/\(id)").json()
                #expect((body["speed"] as? Double) == 2.5)
                #expect((body["eta_seconds"] as? Double) == 12)
            }
        }
    }
}
