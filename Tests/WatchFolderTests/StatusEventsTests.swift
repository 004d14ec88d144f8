import Foundation
import TestSupport
import Hummingbird
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// `GET /api/events` read by curl, an independent SSE client.
@Suite struct StatusEventsTests {
    @Test func deliversTransitionsWithIdsAndLiveProgressThenResumesFromLastEventID() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let job = try await bench.drop("a.mp4")  // event 1: job.queued
            let id = try #require(job.id)
            try await withStatusServer(bench.server()) { client async throws in
                let url = "http://127.0.0.1:\(client.port)/api/events"
                let live = try RunningProcess("curl", ["-sN", "--max-time", "120", url])
                #expect(await live.waitFor(": watchfolder events after 1\n"))
                _ = try await bench.store.claimNext(now: Date())  // event 2: job.started
                #expect(await live.waitFor("id: 2\nevent: job.started\ndata: {"), "\(live.output)")
                try await bench.store.updateProgress(id, fraction: 0.25)  // event 3: job.progress (crossed 10 %)
                #expect(await live.waitFor("id: 3\nevent: job.progress\n"), "\(live.output)")
                #expect(await live.waitFor(#""id":1,"progress":0.25,"#), "\(live.output)")
                #expect(live.output.contains("event: progress\ndata: {"))
                try await bench.store.updateProgress(id, fraction: 0.27)  // no durable event, a live one
                #expect(await live.waitFor(#""progress":0.27"#), "\(live.output)")
                let first = await live.finish(timeout: .zero)
                #expect(!first.contains("id: 1\n"), "a fresh client starts at the newest event")
                #expect(first.contains(#""state":"running""#))

                // While nobody listens: publishing (no event) and completed (event 4).
                _ = try await bench.store.transition(id, .publishing(location: dir.path, encoder: "libx264", manifest: nil))
                _ = try await bench.store.transition(id, .completed(location: dir.path, master: nil, effect: nil))
                let resumed = try RunningProcess("curl", ["-sN", "--max-time", "120", "-H", "Last-Event-ID: 2", url])
                #expect(await resumed.waitFor("id: 4\nevent: job.completed\n"), "\(resumed.output)")
                let replay = resumed.output
                let three = try #require(replay.range(of: "id: 3\n")), four = try #require(replay.range(of: "id: 4\n"))
                #expect(three.lowerBound < four.lowerBound)
                #expect(!replay.contains("id: 2\n") && !replay.contains("id: 1\n"))
                #expect(replay.contains(#""state":"completed""#))
                await resumed.finish(timeout: .zero)
            }
        }
    }

    @Test func streamEndsOnGracefulShutdownAndSendsKeepAlives() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let connected: RunningProcess = try await withStatusServer(bench.server(keepAlive: .milliseconds(200))) { client async throws in
                let url = "http://127.0.0.1:\(client.port)/api/events"
                let curl = try RunningProcess("curl", ["-sN", "--max-time", "30", url])
                #expect(await curl.waitFor(": keep-alive\n\n"), "\(curl.output)")
                return curl
            }
            // The test framework shut the server down gracefully; curl sees the stream end long before --max-time.
            let curl = connected
            let start = ContinuousClock.now
            await curl.finish(timeout: .seconds(25))
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(curl.process.terminationStatus == 0 || curl.process.terminationStatus == 18, "curl exit \(curl.process.terminationStatus)")
        }
    }

    @Test func keepAliveTicksPickUpEventsWrittenByAnotherProcess() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await withStatusServer(bench.server(keepAlive: .milliseconds(300))) { client async throws in
                let url = "http://127.0.0.1:\(client.port)/api/events"
                let curl = try RunningProcess("curl", ["-sN", "--max-time", "30", url])
                #expect(await curl.waitFor(": watchfolder events after 0\n"))
                // Another store on the same file (as the CLI would be): its writes are not observed by the server's pool.
                let other = try SQLiteJobStore(url: bench.config.state.databaseURL)
                try FileManager.default.createDirectory(at: bench.inbox, withIntermediateDirectories: true)
                try Data("x".utf8).write(to: bench.inbox.appendingPathComponent("cli.mp4"))
                _ = try await other.enqueue([try #require(InboxFile.stat("cli.mp4", in: bench.inbox))])
                #expect(await curl.waitFor("id: 1\nevent: job.queued\n"), "\(curl.output)")
                await curl.finish(timeout: .zero)
            }
        }
    }
}
