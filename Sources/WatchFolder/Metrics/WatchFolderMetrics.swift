import CoreMetrics

/// The daemon's metrics, with stable names, recorded through the swift-metrics API only.
///
/// Which backend receives them is chosen at the edge: the status module bootstraps `MetricsSystem` with a
/// Prometheus factory and serves `GET /metrics` (``WatchFolderStatus/PrometheusBackend``). Until then (and
/// in a process without a status server) the values go to swift-metrics' no-op handler. Each recording asks
/// the factory for its metric by name and dimensions (the backend returns the same one each time), so a
/// value recorded before the backend was chosen never pins a metric to the no-op handler.
///
/// ```swift
/// WatchFolderMetrics.s3Uploaded(bytes: part.count)
/// WatchFolderMetrics.webhookDelivered(.delivered)
/// ```
public enum WatchFolderMetrics {
    /// The metric names (stable: dashboards and alerts use them).
    public enum Name {
        public static let jobs = "watchfolder_jobs"
        public static let queueDepth = "watchfolder_queue_depth"
        public static let runningJobs = "watchfolder_running_jobs"
        public static let storeStatements = "watchfolder_store_statements_total"
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

    /// Makes every metric that has no per-encoder dimension, at zero, so that a backend chosen now lists
    /// them before anything happened.
    public static func declareAll() {
        for name in [Name.bytesIn, Name.bytesOut, Name.s3BytesUploaded, Name.s3Errors, Name.inboxEvents, Name.inboxRescans] {
            _ = Counter(label: name)
        }
        for outcome in WebhookOutcome.allCases { _ = webhookDeliveries(outcome) }
        _ = Gauge(label: Name.webhookPending)
    }

    // MARK: Inbox (intake)

    /// Adds `count` filesystem events read from the inbox (`watchfolder_inbox_events_total`).
    public static func inboxEventsRead(_ count: Int) { Counter(label: Name.inboxEvents).increment(by: Int64(count)) }
    /// Counts one full rescan of the inbox: start, overflow, resume, SIGHUP (`watchfolder_inbox_rescans_total`).
    public static func inboxRescanned() { Counter(label: Name.inboxRescans).increment() }

    // MARK: S3 (the uploader)

    /// Adds `bytes` acknowledged by S3 (`watchfolder_s3_uploaded_bytes_total`).
    public static func s3Uploaded(bytes: Int) { Counter(label: Name.s3BytesUploaded).increment(by: Int64(bytes)) }
    /// Counts one failed S3 request, each attempt (`watchfolder_s3_errors_total`).
    public static func s3Failed() { Counter(label: Name.s3Errors).increment() }

    // MARK: Webhooks (the notifier)

    /// Counts one webhook delivery attempt (`watchfolder_webhook_deliveries_total{outcome}`).
    public static func webhookDelivered(_ outcome: WebhookOutcome) { webhookDeliveries(outcome).increment() }
    /// Sets the number of deliveries waiting: not yet delivered, not given up (`watchfolder_webhook_pending`).
    public static func webhooksPending(_ count: Int) { Gauge(label: Name.webhookPending).record(count) }

    private static func webhookDeliveries(_ outcome: WebhookOutcome) -> Counter {
        Counter(label: Name.webhookDeliveries, dimensions: [("outcome", outcome.rawValue)])
    }

    // MARK: Transcodes (the scheduler)

    /// Records one finished build: bytes in (the source) and out (the renditions), and per encoder the
    /// transcode time (`watchfolder_transcode_seconds{encoder}`, a histogram), its speed (x realtime, last
    /// job) and `watchfolder_transcodes_total{encoder}`.
    public static func packageBuilt(sourceBytes: Int64, renditionBytes: Int64, encoder: String, transcodeSeconds: Double,
                                    speed: Double) {
        Counter(label: Name.bytesIn).increment(by: max(0, sourceBytes))
        Counter(label: Name.bytesOut).increment(by: max(0, renditionBytes))
        let dimensions = [("encoder", encoder)]
        CoreMetrics.Timer(label: Name.transcodeSeconds, dimensions: dimensions)
            .recordNanoseconds(Int64(max(0, transcodeSeconds) * 1e9))
        Gauge(label: Name.transcodeSpeed, dimensions: dimensions).record(speed)
        Counter(label: Name.transcodes, dimensions: dimensions).increment()
    }
}
