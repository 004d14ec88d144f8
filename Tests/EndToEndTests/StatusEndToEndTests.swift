import Foundation
import TestSupport
import Testing

/// The status server of a real `watchfolder run`, spoken to with curl.
@Suite struct StatusEndToEndTests {
    static let token = "e2e-token-\(UUID().uuidString.prefix(8))"

    /// `curl -s -i` → status, headers (lower-cased names), body.
    func curl(_ url: String, _ extra: [String] = []) async throws -> (status: Int, headers: [String: String], body: String) {
        let result = try await tool("curl", ["-s", "-i", "--max-time", "20"] + extra + [url])
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        var headers: [String: String] = [:]
        for line in head.split(separator: "\r\n").dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, headers, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    func json(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    @Test func theDaemonServesTheAPIMetricsAndDashboard() async throws {
        try await withTemporaryDirectory { dir in
            let folders = try DaemonFolders(root: dir, extra: "")
            // The folders' config listens on 127.0.0.1:0; add the token through the environment-free file.
            var text = try String(contentsOf: folders.config, encoding: .utf8)
            text = text.replacingOccurrences(of: "listen = \"127.0.0.1:0\"", with: "listen = \"127.0.0.1:0\"\ntoken = \"\(Self.token)\"")
            try text.write(to: folders.config, atomically: true, encoding: .utf8)
            let daemon = try await DaemonProcess.start(config: folders.config)
            let root = try await daemon.dashboardRoot()
            let auth = ["-H", "Authorization: Bearer \(Self.token)"]

            #expect(try await curl(root + "/api/health").status == 200)
            #expect(try await curl(root + "/api/jobs").status == 401)
            #expect(try await curl(root + "/").body.contains("action=\"/login\""))
            #expect(try await curl(root + "/api/jobs/1", ["-X", "DELETE"] + auth).status == 405)
            #expect(try await curl(root + "/api/jobs/12345", auth).status == 404)

            try Clips.drop(try await Clips.shared(), at: folders.inbox.appendingPathComponent("clip.mp4"))
            try await waitUntil("the job completes", timeout: 120) {
                let page = json(try await curl(root + "/api/jobs?state=completed", auth).body)
                return (page["jobs"] as? [[String: Any]])?.count == 1
            }
            let job = json(try await curl(root + "/api/jobs/1", auth).body)
            #expect(job["state"] as? String == "completed")
            #expect((job["master"] as? String)?.hasSuffix("master.m3u8") == true)
            #expect((job["renditions"] as? [[String: Any]])?.first?["name"] as? String == "144p")

            let poster = try await tool("curl", ["-s", "--max-time", "20"] + auth + ["-o", dir.appendingPathComponent("poster.jpg").path,
                                                                               "-w", "%{http_code} %{content_type}", root + "/api/jobs/1/poster"])
            #expect(poster.stdout == "200 image/jpeg")
            let jpeg = try Data(contentsOf: dir.appendingPathComponent("poster.jpg"))
            #expect(jpeg.prefix(2) == Data([0xFF, 0xD8]))

            let metrics = try await curl(root + "/metrics").body
            #expect(metrics.contains(#"watchfolder_jobs{state="completed"} 1"#))
            #expect(metrics.contains(#"watchfolder_transcodes_total{encoder="libx264"} 1"#))
            // A process of its own: these counters are this daemon's alone.
            func value(_ name: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            let clipSize = try FileManager.default.attributesOfItem(atPath: try await Clips.shared().path)[.size] as? Int
            #expect(value("watchfolder_bytes_in_total") == clipSize.map(Double.init))
            #expect((value("watchfolder_bytes_out_total") ?? 0) > 0)
            #expect((value("watchfolder_inbox_rescans_total") ?? 0) >= 1)
            #expect((value("watchfolder_inbox_events_total") ?? 0) >= 1)
            #expect(value("watchfolder_running_jobs") == 0)

            // The whole history, replayed from the first event.
            let events = try await tool("curl", ["-sN", "--max-time", "3", "-H", "Last-Event-ID: 0"] + auth + [root + "/api/events"])
            for type in ["job.queued", "job.started", "job.completed"] {
                #expect(events.stdout.contains("event: \(type)\n"), "\(type) in \(events.stdout)")
            }
            #expect(events.stdout.contains("id: 1\nevent: job.queued\n"))
            #expect(await daemon.stop() == 0)
        }
    }

    /// A thousand idle connections to a daemon held to 512 open files (as the unit's `LimitNOFILE=` would hold
    /// it): the connection cap keeps the descriptors the daemon needs for its work, so `/api/health` answers
    /// and a clip dropped meanwhile becomes a package.
    @Test func aThousandIdleConnectionsLeaveTheDaemonWorking() async throws {
        try await withTemporaryDirectory { dir in
            let folders = try DaemonFolders(root: dir)
            let daemon = try await DaemonProcess.start(config: folders.config, openFiles: 512)
            let root = try await daemon.dashboardRoot()
            let port = try #require(Int(root.split(separator: ":").last ?? ""))

            // Connected one after another; a daemon out of descriptors stops accepting, and then connecting
            // times out (the test gives up after three such).
            let sockets: [RawSocket] = try await offPool {
                var sockets: [RawSocket] = [], failures = 0
                while sockets.count < 1000 && failures < 3 {
                    if let socket = try? RawSocket(port: port, timeout: 2) { sockets.append(socket) } else { failures += 1 }
                }
                return sockets
            }
            #expect(sockets.count == 1000, "every connection was accepted (the idle ones make room)")
            #expect(try await curl(root + "/api/health").status == 200)

            try Clips.drop(try await Clips.shared(), at: folders.inbox.appendingPathComponent("busy.mp4"))
            try await waitUntil("the clip dropped during the flood becomes a package", timeout: 120) {
                try await states(folders.config)["busy.mp4"] == "completed"
            }
            #expect(folders.packages() == ["busy"])
            #expect(try await curl(root + "/api/health").status == 200)
            #expect(sockets.filter { !$0.peerClosed() }.count <= 256, "at most max_connections are open")
            #expect(await daemon.stop() == 0)
        }
    }

    @Test func aPortInUseStopsTheDaemonWithOneLine() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("first"), withIntermediateDirectories: true)
            let first = try DaemonFolders(root: dir.appendingPathComponent("first"))
            let daemon = try await DaemonProcess.start(config: first.config)
            try await waitUntil("the first daemon listens", timeout: 20) { daemon.stdout.contains("dashboard at http://") }
            let port = try #require(daemon.stdout.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
            let second = dir.appendingPathComponent("second")
            try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
            let config = try writeConfig(in: second, extra: "[http]\nlisten = \"127.0.0.1:\(port)\"\n")
            let result = try await watchfolder("run", "--config", config.path, timeout: 30)
            #expect(result.status == 1)
            let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("watchfolder: status server: cannot listen on 127.0.0.1:\(port): "), "\(last)")
            #expect(last.contains("Address already in use"))
        }
    }

    @Test func aNonLoopbackListenWithoutATokenIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let config = try writeConfig(in: dir, extra: "[http]\nlisten = \"0.0.0.0:0\"\n")
            let result = try await watchfolder("run", "--config", config.path, environment: ["WATCHFOLDER_HTTP_TOKEN": ""], timeout: 30)
            #expect(result.status != 0)
            #expect(result.stderr.contains("reachable from other machines"))
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        }
    }
}
