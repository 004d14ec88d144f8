import Foundation
import Logging
import Synchronization
import ServiceLifecycleTestKit
import TestSupport
import Testing
@testable import WatchFolder

/// Runs a ``WebhookSender`` for `hooks` on `store` while `body` runs, then shuts it down gracefully.
func withSender(_ store: SQLiteJobStore, _ hooks: [Config.Webhook], scale: Double = 0.001,
                requestTimeoutSeconds: Int = WebhookSender.timeoutSeconds,
                beforeDelivering: () async throws -> Void = {}, _ body: () async throws -> Void) async throws {
    let sender = try await WebhookSender(queue: WebhookQueue(store: store), webhooks: hooks,
                                   policy: WebhookRetryPolicy(scale: scale), logger: quietLogger,
                                   requestTimeoutSeconds: requestTimeoutSeconds)
    try await beforeDelivering()  // the endpoints are registered: events recorded now are queued for them
    try await testGracefulShutdown { trigger in
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sender.run() }
            try await body()
            trigger.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}

/// A logger for tests that prints only critical messages.
let quietLogger: Logger = {
    var logger = Logger(label: "test.webhooks")
    logger.logLevel = .critical
    return logger
}()

/// The delivery rows of the store, by id.
func deliveries(_ store: SQLiteJobStore) async throws -> [WebhookDeliveryInfo] {
    try await WebhookQueue(store: store).list(state: nil).reversed()
}

@Suite struct WebhookDeliveryTests {
    /// The receiver answers 503 to the first requests; every event still arrives, verified by the reference
    /// library, in event order, and every retry carries the same webhook-id.
    @Test func everyEventArrivesVerifiedAndInOrderThrough503s() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let secret = WebhookSigner.generateSecret()
            let receiver = try await WebhookReceiver(secret: secret, in: dir, failFirst: 4)
            try await withSender(store, [webhookConfig(receiver.url, secret: secret)]) {
                let jobs = try await driveJobs(store)
                let expected = try await eventUIDs(store, types: Set(Config.Webhook.defaultEvents))
                #expect(expected.count == 10)  // 3 queued, cancelled, started, completed, started, retrying, started, failed
                let all = try await receiver.wait { $0.filter { $0.answered == 200 }.count >= expected.count }
                #expect(all.allSatisfy { $0.verified })
                #expect(all.prefix(4).allSatisfy { $0.answered == 503 })
                // The 503s were all for the first event and its retries kept its id.
                #expect(Set(all.prefix(5).map(\.id)) == [expected[0]])
                let delivered = all.filter { $0.answered == 200 }
                #expect(delivered.map(\.id) == expected)
                // Order per endpoint: the request sequence never goes back to an earlier event.
                let positions = all.map { expected.firstIndex(of: $0.id) ?? -1 }
                #expect(positions == positions.sorted())
                #expect(all.allSatisfy { $0.userAgent == "watchfolder/\(WatchFolderVersion.string)" })
                #expect(all.allSatisfy { $0.contentType == "application/json" })
                // The payload of job.completed.
                let completed = try #require(delivered.first { $0.type == "job.completed" })
                let data = completed.data
                #expect(data["id"] as? Int == Int(jobs.completed))
                #expect(data["source_name"] as? String == "a.mp4")
                #expect(data["state"] as? String == "completed")
                #expect(data["master"] as? String == "/out/a/master.m3u8")
                #expect(data["thumbnail"] as? String == "/out/a/thumbnails/thumb_01.jpg")
                #expect(data["poster"] as? String == "/out/a/poster.jpg")
                #expect(data["renditions"] as? [String] == ["360p", "240p"])
                #expect(data["encoder"] as? String == "libx264")
                #expect((data["manifest"] as? [String: Any])?["durationSeconds"] as? Double == 2.0)
                #expect((data["durations"] as? [String: Any])?["transcode_seconds"] as? Double == 1.5)
                #expect(completed.body["timestamp"] as? String != nil)
                let failed = try #require(delivered.first { $0.type == "job.failed" })
                #expect(failed.data["error"] as? String == "decoder exploded again")
                #expect(failed.data["attempts"] as? Int == 2)
                #expect(try await eventually { try await deliveries(store).allSatisfy { $0.delivery.state == .delivered } })
            }
        }
    }

    /// `events` filters per endpoint; `job.progress` is opt-in and throttled to one per 10 %.
    @Test func endpointsReceiveOnlyTheirEventsAndProgressIsOptIn() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let secret = WebhookSigner.generateSecret()
            let everything = try await WebhookReceiver(secret: secret, in: dir)
            let completedOnly = try await WebhookReceiver(secret: secret, in: dir)
            let progress = try await WebhookReceiver(secret: secret, in: dir)
            let hooks = [webhookConfig(everything.url, secret: secret),
                         webhookConfig(completedOnly.url, events: ["job.completed"], secret: secret),
                         webhookConfig(progress.url, events: ["job.progress", "job.failed"], secret: secret)]
            try await withSender(store, hooks) {
                try await driveJobs(store, progressSteps: 100)
                let all = try await eventUIDs(store)
                let progressEvents = try await eventUIDs(store, types: ["job.progress"])
                #expect(progressEvents.count == 10)  // 100 updates, one event per 10 %
                let defaults = try await eventUIDs(store, types: Set(Config.Webhook.defaultEvents))
                #expect(defaults.count == all.count - progressEvents.count)
                try await everything.wait { $0.count >= defaults.count }
                try await completedOnly.wait { $0.count >= 1 }
                try await progress.wait { $0.count >= progressEvents.count + 1 }
                // Nothing more arrives: every delivery has been answered.
                let queue = try WebhookQueue(store: store)
                #expect(try await eventually { try await queue.pendingCount() == 0 })
                #expect(everything.received().map(\.id) == defaults)
                #expect(everything.received().allSatisfy { $0.type != "job.progress" })
                #expect(completedOnly.received().map(\.type) == ["job.completed"])
                #expect(progress.received().map(\.type) == Array(repeating: "job.progress", count: 10) + ["job.failed"])
                #expect(progress.received().allSatisfy { $0.verified })
            }
        }
    }

    /// An unreachable host is retried on schedule; a receiver that never answers is cut at the timeout; neither
    /// delays a healthy endpoint.
    @Test func unreachableOrSlowEndpointsNeverDelayAnother() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let secret = WebhookSigner.generateSecret()
            let healthy = try await WebhookReceiver(secret: secret, in: dir)
            let slow = try await WebhookReceiver(secret: secret, in: dir, hangType: "job.queued", hangCount: 100)
            let unreachable = "http://127.0.0.1:1/hooks"  // nothing listens on port 1: connection refused
            let hooks = [webhookConfig(unreachable, secret: secret), webhookConfig(slow.url, secret: secret),
                         webhookConfig(healthy.url, secret: secret)]
            // Every event is queued before delivery starts: the healthy endpoint's deliveries all start with the slow
            // one's first request, however slowly a loaded machine records the events. Requests are cut at 50 s here
            // (the receiver holds them 60 s), so that "before the cut" does not depend on the machine's speed.
            try await withSender(store, hooks, scale: 0.01, requestTimeoutSeconds: 50,
                                 beforeDelivering: { try await driveJobs(store) }) {
                let expected = try await eventUIDs(store, types: Set(Config.Webhook.defaultEvents))
                try await healthy.wait(timeout: 40) { $0.count >= expected.count }
                // All of it while the slow endpoint's first request was still in flight (until it is cut, its
                // attempt is not recorded).
                let queue = try WebhookQueue(store: store)
                let slowHead = try #require(try await queue.list(state: .pending).filter { $0.url == slow.url }.last)
                #expect(slowHead.delivery.attempts == 0)
                #expect(slow.received().count == 1)
                #expect(healthy.received().map(\.id) == expected)
                // The unreachable one was tried (5 s × 0.01 apart, then 30 s × 0.01), and is still pending, in order.
                #expect(try await eventually {
                    try await queue.list(state: .pending).contains { $0.url == unreachable && $0.delivery.attempts >= 3 }
                })
                let head = try #require(try await queue.list(state: .pending).filter { $0.url == unreachable }.last)
                #expect(head.event.uid == expected[0])
                #expect(head.delivery.lastStatus == nil)
                #expect(head.delivery.lastError?.contains("curl") == true)
                #expect(head.delivery.nextAt > Date().addingTimeInterval(-1))
            }
        }
    }

    /// After the retry window (24 h, scaled down here) a delivery is `failed` and the queue moves on.
    @Test func deliveriesFailAfterTheRetryWindow() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let unreachable = "http://127.0.0.1:1/hooks"
            // 24 h × 0.00005 ≈ 4.3 s; delays from 0.25 ms to 0.36 s.
            try await withSender(store, [webhookConfig(unreachable, events: ["job.queued"])], scale: 0.00005) {
                _ = try await store.enqueue([file("a.mp4", inode: 1), file("b.mp4", inode: 2)])
                let queue = try WebhookQueue(store: store)
                #expect(try await eventually(timeout: .seconds(25)) { try await queue.list(state: .failed).count == 2 })
                let failed = try await queue.list(state: .failed)
                // The head was retried until its window closed; the one behind it waited its window out behind the
                // head (order per endpoint), was tried once, and the queue moved on.
                #expect(failed.allSatisfy { $0.delivery.attempts >= 1 && $0.delivery.lastError != nil })
            }
        }
    }

    /// `resend`: the same webhook-id again, with a new timestamp and signature.
    @Test func resendKeepsTheIdWithANewSignature() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let secret = WebhookSigner.generateSecret()
            let receiver = try await WebhookReceiver(secret: secret, in: dir)
            try await withSender(store, [webhookConfig(receiver.url, events: ["job.queued"], secret: secret)]) {
                _ = try await store.enqueue([file("a.mp4", inode: 1)])
                let first = try await receiver.wait { $0.count == 1 }
                let queue = try WebhookQueue(store: store)
                #expect(try await eventually { try await queue.list(state: .delivered).count == 1 })
                let delivery = try #require(try await queue.list(state: .delivered).first)
                // A new signature needs a new timestamp: wait until the unix second has moved on.
                let sent = try #require(Int64(first[0].timestamp))
                #expect(await eventually(timeout: .seconds(5)) { Int64(Date().timeIntervalSince1970) > sent })
                let resent = try await queue.resend(delivery.delivery.id)
                #expect(resent.delivery.state == .pending)
                let both = try await receiver.wait { $0.count == 2 }
                #expect(both.allSatisfy { $0.verified })
                #expect(both[1].id == first[0].id)
                #expect(both[1].timestamp != first[0].timestamp)
                #expect(both[1].signature != first[0].signature)
                #expect(NSDictionary(dictionary: both[1].body).isEqual(to: first[0].body))
                await #expect(throws: WebhookQueueError.self) { try await queue.resend(9999) }
            }
        }
    }

    /// HTTPS is verified: a receiver with a self-signed certificate (in no CA store) gets nothing.
    @Test func httpsCertificatesAreVerified() async throws {
        try await withTempDir { dir in
            let cert = dir.appendingPathComponent("cert.pem"), key = dir.appendingPathComponent("key.pem")
            let openssl = ChildProcess()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                 "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                 "-keyout", key.path, "-out", cert.path]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            while openssl.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            #expect(openssl.terminationStatus == 0)
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let secret = WebhookSigner.generateSecret()
            let receiver = try await WebhookReceiver(secret: secret, in: dir, tls: (cert, key))
            #expect(receiver.url.hasPrefix("https://"))
            try await withSender(store, [webhookConfig(receiver.url, events: ["job.queued"], secret: secret)], scale: 0.01) {
                _ = try await store.enqueue([file("a.mp4")])
                let queue = try WebhookQueue(store: store)
                #expect(try await eventually { try await queue.list(state: .pending).first?.delivery.attempts ?? 0 >= 2 })
                let delivery = try #require(try await queue.list(state: .pending).first)
                #expect(delivery.delivery.lastStatus == nil)
                #expect(delivery.delivery.lastError?.contains("curl error 60") == true, "\(delivery.delivery.lastError ?? "")")
                #expect(receiver.received().isEmpty)
            }
        }
    }

    /// Config reload: a removed endpoint gets no new events, an added one gets the events recorded from then on,
    /// and an endpoint that comes back keeps its identity (URL) and its queue.
    /// A answers a second after each request arrives, so the first reload comes while A's request is in flight:
    /// that request gets its answer (delivered), and the queue A gets back later does not send it again.
    @Test func reloadAddsAndRemovesEndpoints() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let secret = WebhookSigner.generateSecret()
            let a = try await WebhookReceiver(secret: secret, in: dir, answerAfter: .seconds(1))
            let b = try await WebhookReceiver(secret: secret, in: dir)
            let hookA = webhookConfig(a.url, events: ["job.queued"], secret: secret)
            let hookB = webhookConfig(b.url, events: ["job.queued"], secret: secret)
            let sender = try await WebhookSender(queue: WebhookQueue(store: store), webhooks: [hookA],
                                           policy: WebhookRetryPolicy(scale: 0.001), logger: quietLogger)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await sender.run() }
                    _ = try await store.enqueue([file("1.mp4", inode: 1)])
                    try await a.wait { $0.count == 1 }
                    try await sender.reload([hookB])
                    _ = try await store.enqueue([file("2.mp4", inode: 2)])
                    try await b.wait { $0.count == 1 }
                    try await sender.reload([hookA, hookB])
                    _ = try await store.enqueue([file("3.mp4", inode: 3)])
                    try await a.wait { $0.count == 2 }
                    try await b.wait { $0.count == 2 }
                    // Each endpoint sends in event order: a repeat of an earlier event would have come first.
                    let ids = try await eventUIDs(store)
                    #expect(a.received().map(\.id) == [ids[0], ids[2]])
                    #expect(b.received().map(\.id) == [ids[1], ids[2]])
                    await #expect(throws: WebhookSecretError.self) {
                        try await sender.reload([webhookConfig(a.url, secret: "whsec_!!")])
                    }
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    /// With no endpoint the sender still runs until shutdown: a service that returned would stop the daemon.
    @Test func withoutEndpointsTheSenderWaitsForShutdown() async throws {
        try await withTempDir { dir in
            let store = try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite"))
            let sender = try await WebhookSender(queue: WebhookQueue(store: store), webhooks: [], logger: quietLogger)
            let finished = DoneFlag()
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await sender.run()
                        finished.set()
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(!finished.isSet)
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                    #expect(finished.isSet)
                }
            }
        }
    }
}

/// A flag set once from another task.
final class DoneFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
