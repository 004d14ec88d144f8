import Foundation
import GRDB
import Testing
@testable import WatchFolder

/// The built `watchfolder` binary, run as the daemon.
let webhookBinary: URL = {
    if let env = ProcessInfo.processInfo.environment["WATCHFOLDER_BIN"], !env.isEmpty { return URL(fileURLWithPath: env) }
    return webhookPackageRoot.appendingPathComponent(".build/debug/watchfolder")
}()

/// `watchfolder run` in a child process (killed in `deinit` if still running).
final class DaemonProcess {
    let process = Process()

    init(config: URL, scale: Double = 0.001) throws {
        process.executableURL = webhookBinary
        process.arguments = ["run", "--config", config.path]
        process.environment = ProcessInfo.processInfo.environment.merging(
            [WebhookRetryPolicy.scaleVariable: "\(scale)"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit { if process.isRunning { kill9() } }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(10_000) }
    }

    /// SIGTERM (graceful shutdown), then waits for the exit status; -1 (and an issue) if it did not exit in 30 s.
    func stop() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else {
            Issue.record("the daemon did not exit within 30 s of SIGTERM")
            kill9()
            return -1
        }
        return process.terminationStatus
    }
}

/// A config with the daemon's folders under `dir` and `hooks`.
func daemonConfig(in dir: URL, hooks: [Config.Webhook]) throws -> URL {
    var text = """
        [inbox]
        path = "\(dir.path)/inbox"
        archive_path = "\(dir.path)/archive"
        failed_path = "\(dir.path)/failed"
        [state]
        path = "\(dir.path)/state"
        [outbox]
        path = "\(dir.path)/outbox"

        """
    for hook in hooks {
        text += "\n[[webhook]]\nurl = \"\(hook.url)\"\nsecret = \"\(hook.secret)\"\n"
    }
    let url = dir.appendingPathComponent("config.toml")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// Waits until the daemon has registered its endpoints (it does so before it records any event).
func waitForEndpoints(_ store: SQLiteJobStore, count: Int) async throws {
    let ready = try await eventually {
        try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_endpoint WHERE active") } == count
    }
    #expect(ready, "the daemon did not register its webhook endpoints")
}

@Suite(.serialized) struct WebhookRestartTests {
    /// kill -9 while `job.completed` is in flight: after the restart the receiver has exactly one
    /// `job.completed` id (it saw the request twice, with that one id), and the delivery is `delivered`.
    @Test func killNineBetweenCompletionAndDeliveryYieldsOneCompletedID() async throws {
        try await withTempDir { dir in
            let secret = WebhookSigner.generateSecret()
            let receiver = try WebhookReceiver(secret: secret, in: dir, hangType: "job.completed", hangCount: 1)
            let config = try daemonConfig(in: dir, hooks: [webhookConfig(receiver.url, secret: secret)])
            let daemon = try DaemonProcess(config: config)
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("state/watchfolder.sqlite"))
            try await waitForEndpoints(store, count: 1)
            try await driveJobs(store)
            let completedID = try #require(try await eventUIDs(store, types: ["job.completed"]).first)
            try await receiver.wait { $0.contains { $0.type == "job.completed" } }
            daemon.kill9()
            #expect(try await WebhookOutbox(store: store).list(state: .pending).contains { $0.event.uid == completedID })

            let restarted = try DaemonProcess(config: config)
            let expected = try await eventUIDs(store, types: Set(Config.Webhook.defaultEvents))
            let all = try await receiver.wait { $0.filter { $0.answered == 200 }.count >= expected.count }
            let completed = all.filter { $0.type == "job.completed" }
            #expect(Set(completed.map(\.id)) == [completedID])
            #expect(completed.map(\.answered) == [0, 200])
            #expect(all.allSatisfy { $0.verified })
            #expect(all.filter { $0.answered == 200 }.map(\.id) == expected)
            #expect(try await eventually {
                try await WebhookOutbox(store: store).list(state: nil).allSatisfy { $0.delivery.state == .delivered }
            })
            #expect(await restarted.stop() == 0)
        }
    }

    /// A receiver down while the job runs and up after a daemon restart gets every event, once, in order; then
    /// `webhooks --json` and `webhooks resend` work against the same store.
    @Test func receiverDownDuringTheJobGetsEveryEventOnceAfterARestart() async throws {
        try await withTempDir { dir in
            let secret = WebhookSigner.generateSecret()
            let port = try WebhookReceiver(secret: secret, in: dir).port  // a free port; nothing listens now
            let url = "http://127.0.0.1:\(port)/hooks"
            let config = try daemonConfig(in: dir, hooks: [webhookConfig(url, secret: secret)])
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("state/watchfolder.sqlite"))
            let outbox = WebhookOutbox(store: store)

            let daemon = try DaemonProcess(config: config)
            try await waitForEndpoints(store, count: 1)
            try await driveJobs(store)
            #expect(try await eventually { try await outbox.list(state: .pending).contains { $0.delivery.attempts >= 2 } })
            #expect(await daemon.stop() == 0)
            let pending = try await outbox.list(state: .pending)
            #expect(pending.count == 10)

            let receiver = try WebhookReceiver(secret: secret, in: dir, port: port)
            let restarted = try DaemonProcess(config: config)
            let expected = try await eventUIDs(store, types: Set(Config.Webhook.defaultEvents))
            let all = try await receiver.wait { $0.count >= expected.count }
            #expect(all.map(\.id) == expected)  // each once, in order
            #expect(all.allSatisfy { $0.verified && $0.answered == 200 })
            #expect(try await eventually { try await outbox.list(state: .delivered).count == expected.count })

            // The CLI reads the same store while the daemon runs.
            let list = try runBinary(["webhooks", "--state", "delivered", "--json", "--config", config.path])
            #expect(list.status == 0)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(Set(rows.compactMap { $0["webhook_id"] as? String }) == Set(expected))
            #expect(rows.allSatisfy { $0["state"] as? String == "delivered" && $0["url"] as? String == url })
            let last = try #require(rows.first { $0["webhook_id"] as? String == expected.last })
            try await Task.sleep(for: .milliseconds(1100))  // a new unix second: a new timestamp
            let resend = try runBinary(["webhooks", "resend", "\(last["id"] as? Int ?? 0)", "--config", config.path])
            #expect(resend.status == 0, "\(resend.stderr)")
            let again = try await receiver.wait { $0.count >= expected.count + 1 }
            #expect(again.last?.id == expected.last)
            #expect(again.last?.timestamp != all.last?.timestamp)
            #expect(again.last?.verified == true)
            #expect(await restarted.stop() == 0)
        }
    }
}

/// Runs the binary to completion.
func runBinary(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = webhookBinary
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
