import Foundation
import TestSupport
import Testing

/// Several `watchfolder run` processes sharing one PostgreSQL store (a real throwaway PostgreSQL 15) and one set of
/// folders, as nodes of a cluster do (README "Several nodes"): one package and one `job.completed` per file, whatever
/// the nodes do.
@Suite struct ClusterDaemonTests {
    /// Three nodes, one inbox, 30 files: 30 packages, 30 `job.completed` deliveries, nothing twice, and the work shared.
    @Test func threeNodesMakeOnePackageAndOneCompletionPerFile() async throws {
        try await withTemporaryDirectory { dir in
            let secret = try await watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let receiver = try await WebhookReceiver(secret: secret, in: dir)
            let cluster = try await Cluster(root: dir, server: PostgresServer.shared())
            let hook = "[[webhook]]\nurl = \"\(receiver.url)\"\nsecret = \"\(secret)\"\nevents = [\"job.completed\"]\n"
            var daemons: [DaemonProcess] = []
            for node in ["node-a", "node-b", "node-c"] {
                daemons.append(try await DaemonProcess.start(config: try cluster.config(node: node, extra: hook)))
            }
            let clip = try await Clips.shared()
            let names = (1...30).map { String(format: "clip-%02d", $0) }
            for name in names { try Clips.drop(clip, at: cluster.inbox.appendingPathComponent(name + ".mp4")) }

            let config = daemons[0].config
            try await waitUntil("30 jobs completed", timeout: 240) {
                let all = try await jobs(config)
                return all.count >= 30 && all.allSatisfy { $0["state"] as? String == "completed" }
            }
            try await waitUntil("30 job.completed deliveries", timeout: 60) {
                receiver.received().filter { $0.answered == 200 }.count >= 30
            }
            let all = try await jobs(config)
            #expect(all.count == 30, "one job per file: \(all.map { $0["source"] ?? "?" })")
            #expect(Set(all.compactMap { $0["attempts"] as? Int }) == [1])
            let nodes = Set(all.compactMap { $0["node"] as? String })
            #expect(nodes.isSubset(of: ["node-a", "node-b", "node-c"]) && nodes.count >= 2, "the nodes that ran jobs: \(nodes)")
            #expect(cluster.packages() == names, "\(cluster.packages())")
            #expect(cluster.tree(cluster.archive) == names.map { $0 + ".mp4" })

            let delivered = receiver.received().filter { $0.answered == 200 }
            #expect(delivered.allSatisfy { $0.verified && $0.type == "job.completed" })
            #expect(delivered.count == 30 && Set(delivered.map(\.id)).count == 30,
                    "\(delivered.count) deliveries, \(Set(delivered.map(\.id)).count) ids; all: \(receiver.received().map { "\($0.id.suffix(6)) \($0.answered)" })")
            #expect(Set(delivered.compactMap { $0.data["source_name"] as? String }) == Set(names.map { $0 + ".mp4" }))
            #expect(try await cluster.psql("SELECT count(*) FROM event WHERE type = 'job.completed'") == "30")

            let listed = try await watchfolder("nodes", "--json", "--config", config.path)
            let up = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            #expect(Set(up.compactMap { $0["name"] as? String }) == ["node-a", "node-b", "node-c"])
            #expect(up.allSatisfy { $0["state"] as? String == "up" }, "\(listed.stdout)")
            // Every node's API shows the whole cluster's jobs, each with its node, and every node.
            let root = try await daemons[1].dashboardRoot()
            let page = try await tool("curl", ["-s", "--max-time", "20", root + "/api/jobs?limit=100"]).stdout
            let listedJobs = try #require(try JSONSerialization.jsonObject(with: Data(page.utf8)) as? [String: Any])["jobs"] as? [[String: Any]]
            #expect(listedJobs?.count == 30 && Set(listedJobs?.compactMap { $0["node"] as? String } ?? []) == nodes, "\(page.prefix(300))")
            let apiNodes = try await tool("curl", ["-s", "--max-time", "20", root + "/api/nodes"]).stdout
            #expect(["node-a", "node-b", "node-c"].allSatisfy { apiNodes.contains("\"\($0)\"") }, "\(apiNodes)")
            let hooks = try await watchfolder("webhooks", "--json", "--state", "delivered", "--config", daemons[2].config.path)
            #expect(hooks.status == 0 && hooks.stdout.components(separatedBy: "\"job.completed\"").count - 1 == 30,
                    "\(hooks.stdout.prefix(400))\(hooks.stderr)")
            for daemon in daemons { #expect(await daemon.stop(SIGTERM) == 0, "\(daemon.stderr)") }
        }
    }

    /// kill -9 of the node transcoding a file: after its lease the other node takes the job over and completes it
    /// (attempts 2), with one package and one `job.completed`.
    @Test func aNodeKilledMidTranscodeLosesItsJobToAnother() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try await Cluster(root: dir, server: PostgresServer.shared())
            let a = try await DaemonProcess.start(config: try cluster.config(node: "node-a", lease: 3))
            let b = try await DaemonProcess.start(config: try cluster.config(node: "node-b", lease: 3))
            try Clips.drop(await Clips.long(), at: cluster.inbox.appendingPathComponent("long.mp4"))
            try await waitUntilTranscodeIsUnderWay(a.config)
            let runner = try #require(try await jobs(a.config).first?["node"] as? String)
            let (dead, survivor) = runner == "node-a" ? (a, b) : (b, a)
            await dead.stop(SIGKILL)
            do {
                try await waitUntil("the job completes on the other node", timeout: 180) {
                    try await jobs(survivor.config).first?["state"] as? String == "completed"
                }
            } catch {
                Issue.record("\(error): \(try await cluster.state()); the survivor: \(survivor.lastLines())")
                throw error
            }
            let job = try #require(try await jobs(survivor.config).first)
            #expect(job["node"] as? String == (runner == "node-a" ? "node-b" : "node-a"))
            #expect(job["attempts"] as? Int == 2)
            #expect(cluster.packages() == ["long"])
            #expect(try await cluster.psql("SELECT string_agg(type, ',' ORDER BY id) FROM event WHERE type <> 'job.progress'")
                    == "job.queued,job.started,job.started,job.completed")
            #expect(survivor.stderr.contains("job taken over"), "\(survivor.stderr.suffix(2000))")
            #expect(await survivor.stop(SIGTERM) == 0)
        }
    }

    /// SIGSTOP of the node transcoding a file for longer than its lease: the other node completes the job; the woken
    /// node stops its run at once and publishes nothing, emits nothing, for it.
    @Test func aFrozenNodeWakesToFindItsJobDoneElsewhere() async throws {
        try await withTemporaryDirectory { dir in
            let secret = try await watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let receiver = try await WebhookReceiver(secret: secret, in: dir)
            let cluster = try await Cluster(root: dir, server: PostgresServer.shared())
            let hook = "[[webhook]]\nurl = \"\(receiver.url)\"\nsecret = \"\(secret)\"\n"
            let a = try await DaemonProcess.start(config: try cluster.config(node: "node-a", lease: 3, extra: hook))
            let b = try await DaemonProcess.start(config: try cluster.config(node: "node-b", lease: 3, extra: hook))
            try Clips.drop(await Clips.long(), at: cluster.inbox.appendingPathComponent("long.mp4"))
            try await waitUntilTranscodeIsUnderWay(a.config)
            let runner = try #require(try await jobs(a.config).first?["node"] as? String)
            let (frozen, other) = runner == "node-a" ? (a, b) : (b, a)
            kill(frozen.process.processIdentifier, SIGSTOP)
            do {
                try await waitUntil("the job completes on the other node", timeout: 180) {
                    try await jobs(other.config).first?["state"] as? String == "completed"
                }
            } catch {
                kill(frozen.process.processIdentifier, SIGCONT)
                Issue.record("\(error): \(try await cluster.state()); the other node: \(other.lastLines())")
                throw error
            }
            kill(frozen.process.processIdentifier, SIGCONT)
            try await waitUntil("the woken node stops its run", timeout: 30) { frozen.stderr.contains("job stopped: its lease") }
            // Whatever the woken node still had in hand has had time to reach the store, the outbox and the receiver.
            try await Task.sleep(for: .seconds(3))
            let job = try #require(try await jobs(other.config).first)
            #expect(job["state"] as? String == "completed" && job["node"] as? String != runner)
            #expect(cluster.packages() == ["long"])
            #expect(try await cluster.psql("SELECT count(*) FROM event WHERE type = 'job.completed'") == "1")
            #expect(try await cluster.psql("SELECT count(*) FROM event WHERE type IN ('job.failed', 'job.cancelled')") == "0")
            try await waitUntil("job.completed delivered", timeout: 60) {
                receiver.received().contains { $0.type == "job.completed" && $0.answered == 200 }
            }
            #expect(Set(receiver.received().filter { $0.type == "job.completed" }.map(\.id)).count == 1)
            #expect(frozen.isRunning)
            #expect(await frozen.stop(SIGTERM) == 0)
            #expect(await other.stop(SIGTERM) == 0)
        }
    }

    /// PostgreSQL restarted while two nodes transcode: `/api/health` answers 503 while it is down, the nodes carry
    /// on when it is back, and every file still ends in exactly one package and one `job.completed`.
    @Test func aRestartOfPostgreSQLMidRunLosesNothing() async throws {
        let server = try await PostgresServer.makePrivate()
        try await withTemporaryDirectory { dir in
            let cluster = try await Cluster(root: dir, server: server)
            let a = try await DaemonProcess.start(config: try cluster.config(node: "node-a", lease: 6))
            let b = try await DaemonProcess.start(config: try cluster.config(node: "node-b", lease: 6))
            try Clips.drop(await Clips.long(), at: cluster.inbox.appendingPathComponent("long.mp4"))
            let clip = try await Clips.shared()
            for name in ["c1", "c2", "c3"] { try Clips.drop(clip, at: cluster.inbox.appendingPathComponent(name + ".mp4")) }
            try await waitUntil("long.mp4's transcode is under way", timeout: 60) {
                try await jobs(a.config).contains {
                    $0["source"] as? String == "long.mp4" && $0["state"] as? String == "running" && ($0["progress"] as? Double ?? 0) > 0
                }
            }

            try await server.stop()
            for daemon in [a, b] {
                let health = try await tool("curl", ["-s", "--max-time", "20", "-w", "\n%{http_code}", try await daemon.dashboardRoot() + "/api/health"])
                #expect(health.stdout.hasSuffix("\n503") && health.stdout.contains("the job store"), "\(health.stdout)")
            }
            try await Task.sleep(for: .seconds(2))
            try await server.start()

            try await waitUntil("every file completed", timeout: 240) {
                let all = try await jobs(a.config)
                return all.count == 4 && all.allSatisfy { $0["state"] as? String == "completed" }
            }
            for daemon in [a, b] {
                let health = try await tool("curl", ["-s", "--max-time", "20", "-w", "\n%{http_code}", try await daemon.dashboardRoot() + "/api/health"])
                #expect(health.stdout.hasSuffix("\n200"), "\(health.stdout)")
            }
            #expect(cluster.packages() == ["c1", "c2", "c3", "long"])
            #expect(try await cluster.psql("""
                SELECT string_agg(n::text, ',') FROM (SELECT count(*) AS n FROM event WHERE type = 'job.completed' GROUP BY job_id) c
                """) == "1,1,1,1")
            for daemon in [a, b] {
                // The store's outage is said by the daemon (its heartbeat, intake), not by every connection attempt.
                #expect(!daemon.stderr.contains("Connection creation failed"))
            }
            for daemon in [a, b] {
                let status = await daemon.stop(SIGTERM)
                #expect(status == 0, "\(daemon.lastLines())")
            }
        }
        await server.destroy()
    }

    /// On the PostgreSQL store as on SQLite: `watchfolder cancel` reaches the running job within a second (the CLI's
    /// commit is heard through LISTEN/NOTIFY, nothing polls), and an idle node runs no store statement but its
    /// heartbeat (here once an hour: the statements counted move only by the scrape's own reads).
    @Test func onPostgreSQLCancelIsHeardWithinASecondAndAnIdleNodeRunsNoStatements() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try await Cluster(root: dir, server: PostgresServer.shared())
            let daemon = try await DaemonProcess.start(config: try cluster.config(node: "node-a", lease: 3600))
            try Clips.drop(await Clips.long(), at: cluster.inbox.appendingPathComponent("long.mp4"))
            try await waitUntilTranscodeIsUnderWay(daemon.config)
            let id = try #require(try await jobs(daemon.config).first?["id"] as? Int)
            let cancel = try await watchfolder("cancel", "\(id)", "--config", daemon.config.path)
            let requested = Date()  // the CLI has committed the request
            #expect(cancel.status == 0, "\(cancel.stderr)")
            try await waitUntil("the job is cancelled", timeout: 10) {
                try await jobs(daemon.config).first?["state"] as? String == "cancelled"
            }
            let finished = try #require(finishedAt(try await jobs(daemon.config).first))
            #expect(finished.timeIntervalSince(requested) < 1, "cancelled \(finished.timeIntervalSince(requested)) s after the request")
            #expect(cluster.packages().isEmpty)

            let statements = try await daemon.storeStatementsWhileIdle()
            #expect(statements.scrape > 0)
            #expect(statements.idle == 0, "\(statements.idle) statements in 3 idle seconds")
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }
}

/// One cluster under test: the shared folders every node mounts (here: the same local folders), a database of its
/// own on `server`, and one config per node with a state folder of its own.
struct Cluster {
    let root: URL
    let url: String
    var inbox: URL { root.appendingPathComponent("inbox") }
    var outbox: URL { root.appendingPathComponent("outbox") }
    var archive: URL { root.appendingPathComponent("archive") }
    var failed: URL { root.appendingPathComponent("failed") }

    init(root: URL, server: PostgresServer) async throws {
        self.root = root
        url = try await server.makeDatabase()
        for dir in [inbox, outbox] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    }

    /// Writes `node`'s config (tiny one-rung ladder, concurrency 1) and returns its path.
    func config(node: String, lease: Double = 30, extra: String = "") throws -> URL {
        let dir = root.appendingPathComponent(node)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("config.toml")
        try """
            [inbox]
            path = "\(inbox.path)"
            archive_path = "\(archive.path)"
            failed_path = "\(failed.path)"
            settle_seconds = 0.5

            [state]
            path = "\(dir.path)/state"
            database_url = "\(url)"
            node = "\(node)"
            lease_seconds = \(lease)

            [outbox]
            path = "\(outbox.path)"

            [http]
            listen = "127.0.0.1:0"

            [transcode]
            hardware = "cpu"
            preset = "ultrafast"
            concurrency = 1
            segment_seconds = 1
            thumbnails = 1
            shutdown_grace_seconds = 1

            [[transcode.ladder]]
            height = 144
            video_bitrate = "150k"

            \(extra)
            """.write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Runs `psql` on the cluster's database (an independent client), rows as text.
    func psql(_ query: String) async throws -> String {
        let result = try await tool("psql", [url, "-Atc", query])
        guard result.status == 0 else { throw Timeout(description: "psql: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The jobs, effects and nodes as the store has them, and the time (what a failed wait reports).
    func state() async throws -> String {
        "jobs: \(try await psql("SELECT * FROM job")); effects: \(try await psql("SELECT * FROM effect")); nodes: \(try await psql("SELECT * FROM node")); now \(Date())"
    }

    /// Package folders directly in the outbox, sorted.
    func packages() -> [String] { packageFolders(in: outbox) }

    func tree(_ dir: URL) -> [String] { folderTree(dir) }
}

extension DaemonProcess {
    /// The last lines of the daemon's log but its progress reports.
    func lastLines(_ count: Int = 30) -> String {
        stderr.split(separator: "\n").filter { !$0.contains("progress") }.suffix(count).joined(separator: "\n")
    }
}
