public import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// The appliance: intake → job store → scheduler → pipeline → publisher → notifier, as one `ServiceGroup`.
///
/// - Important: Foundation stub: it sets up logging, reports its folders and waits for SIGTERM/SIGINT.
///   The daemon issue fills in the services.
public struct Daemon: Sendable {
    public let config: Config

    public init(config: Config) {
        self.config = config
    }

    public func run() async throws {
        LogSetup.bootstrap(config.log)
        let logger = Logger(label: "watchfolder")
        for url in [config.inbox.path, config.outbox.path, config.state.path, config.inbox.failedPath]
            + (config.inbox.archivePath.map { [$0] } ?? []) {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        logger.info("watchfolder started", metadata: [
            "wf.config": "\(config.sourcePath)",
            "wf.inbox": "\(config.inbox.path.path)",
            "wf.outbox": "\(config.outbox.path.path)",
        ])
        let store = try SQLiteJobStore(url: config.state.databaseURL)
        // Before anything records events: registers the endpoints whose deliveries those events create.
        let webhooks = try WebhookSender(outbox: WebhookOutbox(store: store), webhooks: config.webhooks, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [webhooks, IdleService()],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        logger.info("watchfolder stopped")
    }
}

/// Waits for graceful shutdown; stands in until the real services land.
private struct IdleService: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
