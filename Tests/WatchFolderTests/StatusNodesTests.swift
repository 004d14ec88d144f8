import Foundation
import Hummingbird
import TestSupport
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// `GET /api/nodes`, a job's `node`, and the dashboard's nodes section.
@Suite struct StatusNodesTests {
    @Test func nodesAndEachJobsNodeAreServed() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let node = NodeIdentity(name: "encoder-1", leaseSeconds: 30)
            try await bench.drop("a.mp4")
            try await bench.drop("b.mp4")
            let running = try #require(try await bench.store.claimNext(now: Date(), node: node))
            _ = try await bench.store.heartbeat(node: node, leases: [running.id!: running.leaseToken!], encoder: "libx264", now: Date())
            try await withStatusServer(bench.server()) { client async throws in
                let response = try await client.get("/api/nodes")
                #expect(response.status == .ok)
                let nodes = try #require(try JSONSerialization.jsonObject(with: response.data) as? [[String: Any]])
                #expect(nodes.count == 1)
                let first = try #require(nodes.first)
                #expect(Set(first.keys) == ["name", "heartbeat_at", "running", "encoder", "version", "state"])
                #expect(first["name"] as? String == "encoder-1" && first["state"] as? String == "up")
                #expect(first["running"] as? [Int] == [Int(running.id!)] && first["encoder"] as? String == "libx264")

                #expect(try await client.get("/api/jobs/\(running.id!)").json()["node"] as? String == "encoder-1")
                let queued = try await client.get("/api/jobs/2").json()
                #expect(queued["state"] as? String == "queued" && queued["node"] is NSNull, "null while queued, never left out")
                let dashboard = try await client.get("/api/dashboard").json()
                #expect((dashboard["nodes"] as? [[String: Any]])?.first?["name"] as? String == "encoder-1")
                #expect(try await client.send("/api/nodes", .post).status == .methodNotAllowed)
            }
        }
    }
}
