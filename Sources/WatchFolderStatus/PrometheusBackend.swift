import Metrics
import Prometheus
import WatchFolder

/// The backend of the daemon's swift-metrics (``WatchFolderMetrics``): Prometheus, chosen here at the edge.
/// `MetricsSystem` is bootstrapped once per process, by the first ``bootstrap()`` (the status server and
/// `watchfolder run` call it); `GET /metrics` renders ``registry``.
public enum PrometheusBackend {
    /// Every metric recorded through swift-metrics in this process.
    static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Bool = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[WatchFolderMetrics.Name.transcodeSeconds] = [
            .seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
            .seconds(600), .seconds(1200), .seconds(1800), .seconds(3600), .seconds(7200),
        ]
        MetricsSystem.bootstrap(factory)
        WatchFolderMetrics.declareAll()
        return true
    }()

    /// Chooses Prometheus as the backend of swift-metrics in this process (once; later calls do nothing).
    public static func bootstrap() { _ = bootstrapped }

    /// The Prometheus text exposition of every metric recorded through swift-metrics.
    static func render() -> String {
        bootstrap()
        return registry.emitToString()
    }
}
