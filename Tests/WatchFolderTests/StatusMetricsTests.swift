import Foundation
import Hummingbird
import Logging
import ServiceLifecycleTestKit
import TestSupport
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// `GET /metrics` read by `prometheus_client`'s text parser (the reference implementation, from PyPI).
@Suite(.serialized) struct StatusMetricsTests {
    static let names = [
        "watchfolder_jobs", "watchfolder_queue_depth", "watchfolder_running_jobs", "watchfolder_bytes_in_total",
        "watchfolder_bytes_out_total", "watchfolder_webhook_deliveries_total", "watchfolder_webhook_pending",
        "watchfolder_s3_uploaded_bytes_total", "watchfolder_s3_errors_total", "watchfolder_inbox_events_total",
        "watchfolder_inbox_rescans_total",
    ]

    @Test func everyMetricIsThereAndParses() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("a.mp4")
            try await bench.drop("b.mp4")
            _ = try await bench.store.claimNext(now: Date())
            try await withStatusServer(bench.server()) { client async throws in
                let response = try await client.get("/metrics")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let samples = try await parsePrometheus(response.text)
                for name in Self.names {
                    #expect(samples.keys.contains { $0 == name || $0.hasPrefix(name + "{") }, "\(name) missing")
                }
                #expect(samples[#"watchfolder_jobs{state="queued"}"#] == 1)
                #expect(samples[#"watchfolder_jobs{state="running"}"#] == 1)
                #expect(samples[#"watchfolder_jobs{state="cancelled"}"#] == 0)
                #expect(samples["watchfolder_queue_depth"] == 1)
                #expect(samples["watchfolder_running_jobs"] == 1)
                for outcome in ["delivered", "retried", "failed"] {
                    #expect(samples[#"watchfolder_webhook_deliveries_total{outcome="\#(outcome)"}"#] != nil, "\(outcome)")
                }
            }
        }
    }

    @Test func numbersMoveWhenARealJobRuns() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            _ = try await bench.clip("clip.mp4", seconds: 2)
            let source = try #require(try FileManager.default.attributesOfItem(atPath: bench.inbox.appendingPathComponent("clip.mp4").path)[.size] as? Int)
            try await withStatusServer(bench.server()) { client async throws in
                let before = try await parsePrometheus(client.get("/metrics").text)
                try await bench.enqueue("clip.mp4")
                #expect(try await parsePrometheus(client.get("/metrics").text)["watchfolder_queue_depth"] == 1)
                try await withScheduler(bench.scheduler()) {
                    let completed = try await eventually { try await bench.store.counts()[.completed] == 1 }
                    #expect(completed)
                }
                let after = try await parsePrometheus(client.get("/metrics").text)
                #expect(after[#"watchfolder_jobs{state="completed"}"#] == 1)
                #expect(after["watchfolder_queue_depth"] == 0)
                let seconds = #"watchfolder_transcode_seconds_count{encoder="libx264"}"#
                #expect((after[seconds] ?? 0) >= (before[seconds] ?? 0) + 1)
                #expect((after[#"watchfolder_transcode_seconds_sum{encoder="libx264"}"#] ?? 0) > 0)
                #expect((after[#"watchfolder_transcode_speed_ratio{encoder="libx264"}"#] ?? 0) > 0)
                #expect((after["watchfolder_bytes_in_total"] ?? 0) >= (before["watchfolder_bytes_in_total"] ?? 0) + Double(source))
                #expect((after["watchfolder_bytes_out_total"] ?? 0) > (before["watchfolder_bytes_out_total"] ?? 0))
            }
        }
    }

    /// The sender counts each attempt by outcome; `/metrics` shows the deliveries still waiting.
    @Test func webhookDeliveriesAndPendingAreRecorded() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let secret = WebhookSigner.generateSecret()
            let receiver = try await WebhookReceiver(secret: secret, in: dir, failFirst: 1)
            let sender = try await WebhookSender(queue: WebhookQueue(store: bench.store),
                                           webhooks: [webhookConfig(receiver.url, events: ["job.queued"], secret: secret)],
                                           policy: WebhookRetryPolicy(scale: 0.001), logger: quietLogger)
            try await bench.drop("a.mp4")
            try await bench.drop("b.mp4")
            try await withStatusServer(bench.server()) { client async throws in
                let before = try await parsePrometheus(client.get("/metrics").text)
                #expect(before["watchfolder_webhook_pending"] == 2)
                let delivered = #"watchfolder_webhook_deliveries_total{outcome="delivered"}"#
                let retried = #"watchfolder_webhook_deliveries_total{outcome="retried"}"#
                try await testGracefulShutdown { trigger in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await sender.run() }
                        #expect(await eventually(timeout: .seconds(10)) {
                            guard let now = try? await parsePrometheus(client.get("/metrics").text) else { return false }
                            return now["watchfolder_webhook_pending"] == 0
                                && (now[delivered] ?? 0) >= (before[delivered] ?? 0) + 2
                                && (now[retried] ?? 0) >= (before[retried] ?? 0) + 1
                        })
                        trigger.triggerGracefulShutdown()
                        try await group.waitForAll()
                    }
                }
            }
            #expect(receiver.received().map(\.answered) == [503, 200, 200])
        }
    }

    @Test func intakeCountsInboxEventsAndRescans() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let rescans = try await parsePrometheus(PrometheusBackend.render())["watchfolder_inbox_rescans_total"] ?? 0
            let events = try await parsePrometheus(PrometheusBackend.render())["watchfolder_inbox_events_total"] ?? 0
            var inbox = bench.config.inbox
            inbox.settleSeconds = 0.2
            let intake = Intake(config: inbox, logger: .init(label: "status-test.intake")) { _ in }
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await intake.run() }
                    #expect(await eventually(timeout: .seconds(10)) {
                        (try? await parsePrometheus(PrometheusBackend.render())["watchfolder_inbox_rescans_total"] ?? 0) ?? 0 > rescans
                    })
                    try Data("x".utf8).write(to: bench.inbox.appendingPathComponent("new.mp4"))
                    #expect(await eventually(timeout: .seconds(10)) {
                        (try? await parsePrometheus(PrometheusBackend.render())["watchfolder_inbox_events_total"] ?? 0) ?? 0 > events
                    })
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }
}
