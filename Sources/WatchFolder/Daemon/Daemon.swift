import Foundation
public import Logging
import Pipeline
public import ServiceLifecycle
import UnixSignals

/// The appliance: intake → job store → scheduler → engine → outbox, as one `ServiceGroup`.
///
/// SIGTERM/SIGINT stop intake first, then let running jobs finish for `shutdown_grace_seconds` before they are
/// stopped and requeued. SIGHUP reloads the config file: concurrency, attempts, transcode options, log level
/// (folders need a restart).
public struct Daemon: Sendable {
    public let config: Config
    let makeServices: @Sendable (any JobStore, any WebhookDeliveries, Logger) -> [any Service]

    /// - Parameter services: More services over the daemon's store and webhook queue (the status server); started
    ///   first, stopped last.
    public init(config: Config,
                services: @escaping @Sendable (any JobStore, any WebhookDeliveries, Logger) -> [any Service] = { _, _, _ in [] }) {
        self.config = config
        self.makeServices = services
    }

    public func run() async throws {
        LogSetup.bootstrap(level: config.log.loggerLevel, json: config.log.format == .json)
        let logger = Logger(label: "watchfolder")
        for url in [config.inbox.path, config.outbox.path, config.state.path, config.state.workURL, config.inbox.failedPath]
            + (config.inbox.archivePath.map { [$0] } ?? []) {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        // Before the store is opened: recovery at start takes back running jobs, which must be none of a live
        // daemon's.
        let lock = try StateLock(state: config.state.path)
        defer { withExtendedLifetime(lock) {} }
        let opened = try await DaemonStore.open(config, logger: logger)
        let store = opened.store
        defer {
            do { try opened.close() } catch { logger.warning("cannot close the job store: \(error)") }
        }
        // Before anything records events: registers the endpoints whose deliveries those events create.
        let webhooks = try await WebhookSender(queue: opened.webhooks, webhooks: config.webhooks, logger: logger)
        // With `[s3]`, packages go to the outbox and then to the bucket.
        let publisher: any Publisher = try config.s3.map { try S3Publisher(outbox: config.outbox, s3: $0, logger: logger) }
            ?? OutboxPublisher(config: config.outbox)
        let scheduler = Scheduler(store: store, builder: TranscoderBuilder(logger: logger),
                                  publisher: publisher,
                                  settings: SchedulerSettings(config: config), logger: logger)
        let recorder = IntakeRecorder(store: store, logger: logger) { scheduler.wake() }
        let intake = Intake(config: config.inbox, logger: logger) { event in recorder.handle(event) }
        // Trap SIGHUP before saying we are up: its default action would end the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let reloader = ConfigReloader(config: config, scheduler: scheduler, webhooks: webhooks, logger: logger, hangups: hangups)
        FileHandle.standardOutput.write(Data(
            "watchfolder: drop videos into \(config.inbox.path.path); packages appear in \(config.outbox.path.path)\n".utf8))
        logger.info("watchfolder started", metadata: [
            "wf.config": "\(config.sourcePath)",
            "wf.inbox": "\(config.inbox.path.path)",
            "wf.outbox": "\(config.outbox.path.path)",
            "wf.state": "\(config.state.path.path)",
        ])
        let extra = makeServices(store, opened.webhooks, logger)
        // Stopped in reverse order: systemd hears STOPPING first, then intake stops, the recorder records what
        // intake still reported, the scheduler lets running jobs finish, webhooks deliver what the last jobs
        // caused, the reloader and the extra services (the status server) last.
        var groupConfig = ServiceGroupConfiguration(
            services: extra.map { .init(service: $0) }
                + [.init(service: EventPruner(store: store, keepDays: config.state.keepEventsDays, logger: logger)),
                   .init(service: reloader), .init(service: webhooks), .init(service: scheduler),
                   .init(service: recorder), .init(service: intake),
                   .init(service: SystemdService(status: "watching \(config.inbox.path.path)", logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfig.maximumGracefulShutdownDuration = .seconds(config.transcode.shutdownGraceSeconds + 15)
        try await ServiceGroup(configuration: groupConfig).run()
        logger.info("watchfolder stopped")
    }
}
