public import CoreMetrics
import Metrics
public import Prometheus
import Foundation
import Synchronization

/// The daemon's metrics, with stable Prometheus names, served by `GET /metrics`.
///
/// Every metric is made by a ``factory`` over one ``registry`` (not the global `MetricsSystem`), so the
/// names exist from the start (at zero) whether or not anything bootstrapped swift-metrics, and several
/// servers in one process (tests) share one set. Other parts of the daemon increment them directly:
///
/// ```swift
/// WatchFolderMetrics.s3BytesUploaded.increment(by: Int64(part.count))
/// WatchFolderMetrics.webhookDelivered(.delivered)
/// ```
///
/// The job gauges (by state, queue depth, running) are read from the job store each time `/metrics` is
/// scraped (``JobGauges``), into a registry of the server's own.
public enum WatchFolderMetrics {
    /// The registry `/metrics` renders.
    public static let registry = PrometheusCollectorRegistry()

    /// A swift-metrics factory writing into ``registry``; the daemon may also bootstrap `MetricsSystem` with it.
    public static let factory: PrometheusMetricsFactory = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Name.transcodeSeconds] = [
            .seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
            .seconds(600), .seconds(1200), .seconds(1800), .seconds(3600), .seconds(7200),
        ]
        return factory
    }()

    /// The metric names (stable: dashboards and alerts use them).
    public enum Name {
        public static let jobs = "watchfolder_jobs"
        public static let queueDepth = "watchfolder_queue_depth"
        public static let runningJobs = "watchfolder_running_jobs"
        public static let transcodeSeconds = "watchfolder_transcode_seconds"
        public static let transcodeSpeed = "watchfolder_transcode_speed_ratio"
        public static let transcodes = "watchfolder_transcodes_total"
        public static let bytesIn = "watchfolder_bytes_in_total"
        public static let bytesOut = "watchfolder_bytes_out_total"
        public static let webhookDeliveries = "watchfolder_webhook_deliveries_total"
        public static let webhookPending = "watchfolder_webhook_pending"
        public static let s3BytesUploaded = "watchfolder_s3_uploaded_bytes_total"
        public static let s3Errors = "watchfolder_s3_errors_total"
        public static let inboxEvents = "watchfolder_inbox_events_total"
        public static let inboxRescans = "watchfolder_inbox_rescans_total"
    }

    /// How a webhook delivery attempt ended.
    public enum WebhookOutcome: String, Sendable, CaseIterable {
        /// 2xx from the endpoint.
        case delivered
        /// A failed attempt that will be retried.
        case retried
        /// Given up after the last attempt.
        case failed
    }

    // MARK: Work (incremented by the scheduler)

    /// `watchfolder_bytes_in_total`: bytes of source files transcoded successfully.
    public static let bytesIn: CoreMetrics.Counter = CoreMetrics.Counter(label: Name.bytesIn, factory: factory)
    /// `watchfolder_bytes_out_total`: bytes of the renditions produced.
    public static let bytesOut = CoreMetrics.Counter(label: Name.bytesOut, factory: factory)

    // MARK: Webhooks (the notifier)

    /// `watchfolder_webhook_deliveries_total{outcome=…}`.
    public static let webhookDeliveries: [WebhookOutcome: CoreMetrics.Counter] = Dictionary(uniqueKeysWithValues:
        WebhookOutcome.allCases.map {
            ($0, CoreMetrics.Counter(label: Name.webhookDeliveries, dimensions: [("outcome", $0.rawValue)], factory: factory))
        })
    /// `watchfolder_webhook_pending`: deliveries waiting (events not yet delivered to every endpoint).
    public static let webhookPending = CoreMetrics.Gauge(label: Name.webhookPending, factory: factory)

    /// Counts one webhook delivery attempt.
    public static func webhookDelivered(_ outcome: WebhookOutcome) {
        webhookDeliveries[outcome]?.increment()
    }

    // MARK: S3 (the uploader)

    /// `watchfolder_s3_uploaded_bytes_total`: bytes acknowledged by S3.
    public static let s3BytesUploaded = CoreMetrics.Counter(label: Name.s3BytesUploaded, factory: factory)
    /// `watchfolder_s3_errors_total`: failed S3 requests (each attempt).
    public static let s3Errors = CoreMetrics.Counter(label: Name.s3Errors, factory: factory)

    // MARK: Inbox (intake)

    /// `watchfolder_inbox_events_total`: filesystem events read from inotify (or found by polling).
    public static let inboxEvents = CoreMetrics.Counter(label: Name.inboxEvents, factory: factory)
    /// `watchfolder_inbox_rescans_total`: full rescans of the inbox (start, overflow, resume, SIGHUP).
    public static let inboxRescans = CoreMetrics.Counter(label: Name.inboxRescans, factory: factory)

    // MARK: Shorthands (no `import Metrics` needed at the call site)

    /// Adds `count` filesystem events read from the inbox.
    public static func inboxEventsRead(_ count: Int) { inboxEvents.increment(by: Int64(count)) }
    /// Counts one full rescan of the inbox.
    public static func inboxRescanned() { inboxRescans.increment() }
    /// Adds `bytes` acknowledged by S3.
    public static func s3Uploaded(bytes: Int) { s3BytesUploaded.increment(by: Int64(bytes)) }
    /// Counts one failed S3 request.
    public static func s3Failed() { s3Errors.increment() }
    /// Sets the number of webhook deliveries waiting.
    public static func webhooksPending(_ count: Int) { webhookPending.record(count) }

    // MARK: Transcodes (per encoder)

    private static let perEncoder = Mutex<[String: (timer: CoreMetrics.Timer, speed: CoreMetrics.Gauge, count: CoreMetrics.Counter)]>([:])

    /// Records one finished transcode: `watchfolder_transcode_seconds{encoder}` (histogram),
    /// `watchfolder_transcode_speed_ratio{encoder}` (x realtime, last job) and `watchfolder_transcodes_total{encoder}`.
    public static func transcodeFinished(encoder: String, seconds: Double, speed: Double) {
        let metrics = perEncoder.withLock { table in
            if let known = table[encoder] { return known }
            let made = (timer: CoreMetrics.Timer(label: Name.transcodeSeconds, dimensions: [("encoder", encoder)], factory: factory),
                        speed: CoreMetrics.Gauge(label: Name.transcodeSpeed, dimensions: [("encoder", encoder)], factory: factory),
                        count: CoreMetrics.Counter(label: Name.transcodes, dimensions: [("encoder", encoder)], factory: factory))
            table[encoder] = made
            return made
        }
        metrics.timer.recordNanoseconds(Int64(max(0, seconds) * 1e9))
        metrics.speed.record(speed)
        metrics.count.increment()
    }

    /// Records a finished build from its package manifest (JSON, as stored with the job): the transcode
    /// time and speed per encoder, bytes in (`sourceBytes`) and out (the renditions' bytes).
    public static func packageBuilt(manifestJSON: String?, sourceBytes: Int64) {
        bytesIn.increment(by: max(0, sourceBytes))
        guard let data = manifestJSON?.data(using: .utf8),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        let renditions = manifest["renditions"] as? [[String: Any]] ?? []
        let out = renditions.reduce(Int64(0)) { $0 + ((($1["bytes"] as? NSNumber)?.int64Value) ?? 0) }
        bytesOut.increment(by: out)
        let timings = manifest["timings"] as? [String: Any] ?? [:]
        let encoder = manifest["encoder"] as? String ?? "unknown"
        func number(_ keys: String...) -> Double {
            keys.lazy.compactMap { (timings[$0] as? NSNumber)?.doubleValue }.first ?? 0
        }
        transcodeFinished(encoder: encoder, seconds: number("transcodeSeconds", "transcode_seconds"),
                          speed: number("speed"))
    }

    /// The Prometheus text exposition of every metric.
    public static func render() -> String {
        _ = (bytesIn, bytesOut, webhookDeliveries, webhookPending,
             s3BytesUploaded, s3Errors, inboxEvents, inboxRescans)  // make every static exist before the first scrape
        return registry.emitToString()
    }
}

/// `watchfolder_jobs{state}`, `watchfolder_queue_depth` and `watchfolder_running_jobs`: set from the store at
/// each scrape, in a registry owned by one status server (so that two servers in one process do not mix).
public final class JobGauges: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let byState: [Job.State: Prometheus.Gauge]
    private let queueDepth: Prometheus.Gauge
    private let running: Prometheus.Gauge

    public init() {
        let registry = self.registry
        byState = Dictionary(uniqueKeysWithValues: Job.State.allCases.map {
            ($0, registry.makeGauge(descriptor: Self.descriptor(WatchFolderMetrics.Name.jobs, "Jobs in each state"),
                                    labels: [("state", $0.rawValue)]))
        })
        queueDepth = registry.makeGauge(descriptor: Self.descriptor(WatchFolderMetrics.Name.queueDepth, "Queued jobs due now"))
        running = registry.makeGauge(descriptor: Self.descriptor(WatchFolderMetrics.Name.runningJobs, "Jobs running or publishing"))
    }

    /// Our names are complete (`watchfolder_jobs`): no unit suffix is added.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// These gauges set from the store's counts, then every other metric.
    public func render(counts: [Job.State: Int], due: Int) -> String {
        for (state, gauge) in byState { gauge.set(Double(counts[state] ?? 0)) }
        queueDepth.set(Double(due))
        running.set(Double((counts[.running] ?? 0) + (counts[.publishing] ?? 0)))
        return registry.emitToString() + WatchFolderMetrics.render()
    }
}
