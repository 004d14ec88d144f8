import Foundation
import GRDB
import TestSupport
import Testing
@testable import WatchFolder

/// `watchfolder run` in a child process (killed in `deinit` if still running).
final class DaemonProcess {
    let process = ChildProcess()

    init(config: URL, scale: Double = 0.001) throws {
        process.executableURL = watchfolderBinary
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
        let events = hook.events.map { "\"\($0)\"" }.joined(separator: ", ")
        text += "\n[[webhook]]\nurl = \"\(hook.url)\"\nsecret = \"\(hook.secret)\"\nevents = [\(events)]\n"
    }
    let url = dir.appendingPathComponent("config.toml")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// Waits until the daemon has registered its endpoints (it does so before it records any event).
func waitForEndpoints(_ store: SQLiteJobStore, count: Int) async throws {
    let ready = await eventually {
        // The daemon creates the webhook tables when it starts: until then there is no table to count in.
        (try? await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_endpoint WHERE active") }) == count
    }
    #expect(ready, "the daemon did not register its webhook endpoints")
}

@Suite struct WebhookReloadTests {
    /// SIGHUP reloads `[[webhook]]`: the daemon sends new events to the endpoint added to the config file.
    /// (Jobs are recorded straight into the store; only `job.queued` is subscribed, as the daemon's scheduler
    /// takes those jobs too.)
    @Test func sighupReloadsEndpoints() async throws {
        try await withTempDir { dir in
            let secret = WebhookSigner.generateSecret()
            let before = try await WebhookReceiver(secret: secret, in: dir), after = try await WebhookReceiver(secret: secret, in: dir)
            let config = try daemonConfig(in: dir, hooks: [webhookConfig(before.url, events: ["job.queued"], secret: secret)])
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("state/watchfolder.sqlite"))
            let daemon = try DaemonProcess(config: config)
            try await waitForEndpoints(store, count: 1)
            _ = try await store.enqueue([file("1.mp4", inode: 1)])
            try await before.wait { $0.count == 1 }

            _ = try daemonConfig(in: dir, hooks: [webhookConfig(after.url, events: ["job.queued"], secret: secret)])
            kill(daemon.process.processIdentifier, SIGHUP)
            #expect(try await eventually {
                try await store.pool.read { db in
                    try String.fetchAll(db, sql: "SELECT url FROM webhook_endpoint WHERE active")
                } == [after.url]
            })
            _ = try await store.enqueue([file("2.mp4", inode: 2)])
            let got = try await after.wait { $0.count == 1 }
            #expect(got.first?.id == (try await eventUIDs(store, types: ["job.queued"])).last)
            #expect(before.received().count == 1)
            #expect(await daemon.stop() == 0)
        }
    }
}
