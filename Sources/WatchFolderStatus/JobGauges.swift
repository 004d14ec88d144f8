import Prometheus
import Synchronization
import WatchFolder

/// `watchfolder_jobs{state}`, `watchfolder_queue_depth`, `watchfolder_running_jobs` and
/// `watchfolder_store_statements_total`: set from the store at each scrape, in a registry owned by one status server
/// (so that two servers in one process do not mix).
final class JobGauges: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let byState: [Job.State: Prometheus.Gauge]
    private let queueDepth: Prometheus.Gauge
    private let running: Prometheus.Gauge
    private let statements: Prometheus.Counter
    private let statementsSeen = Mutex(0)

    init() {
        let registry = self.registry
        byState = Dictionary(uniqueKeysWithValues: Job.State.allCases.map {
            ($0, registry.makeGauge(descriptor: Self.descriptor(WatchFolderMetrics.Name.jobs, "Jobs in each state"),
                                    labels: [("state", $0.rawValue)]))
        })
        queueDepth = registry.makeGauge(descriptor: Self.descriptor(WatchFolderMetrics.Name.queueDepth, "Queued jobs due now"))
        running = registry.makeGauge(descriptor: Self.descriptor(WatchFolderMetrics.Name.runningJobs, "Jobs running or publishing"))
        statements = registry.makeCounter(descriptor: Self.descriptor(WatchFolderMetrics.Name.storeStatements,
                                                                      "Statements run on the job store (an idle daemon runs none)"))
    }

    /// Our names are complete (`watchfolder_jobs`): no unit suffix is added.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// These gauges set from the store's counts and statement count, then every other metric.
    func render(counts: [Job.State: Int], due: Int, statementsExecuted: Int) -> String {
        let delta = statementsSeen.withLock { seen in
            defer { seen = max(seen, statementsExecuted) }
            return max(0, statementsExecuted - seen)
        }
        statements.increment(by: Int64(delta))
        for (state, gauge) in byState { gauge.set(Double(counts[state] ?? 0)) }
        queueDepth.set(Double(due))
        running.set(Double((counts[.running] ?? 0) + (counts[.publishing] ?? 0)))
        return registry.emitToString() + PrometheusBackend.render()
    }
}
