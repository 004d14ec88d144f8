public import Foundation
import Logging
import Pipeline
import ServiceLifecycle
import UnixSignals

/// The appliance: intake → job store → scheduler → engine → outbox, as one `ServiceGroup`.
///
/// SIGTERM/SIGINT stop intake first, then let running jobs finish for `shutdown_grace_seconds` before they are
/// stopped and requeued. SIGHUP reloads the config file: concurrency, attempts, transcode options, log level
/// (folders need a restart).
public struct Daemon: Sendable {
    public let config: Config

    public init(config: Config) {
        self.config = config
    }

    public func run() async throws {
        LogSetup.bootstrap(config.log)
        let logger = Logger(label: "watchfolder")
        for url in [config.inbox.path, config.outbox.path, config.state.path, config.state.workURL, config.inbox.failedPath]
            + (config.inbox.archivePath.map { [$0] } ?? []) {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        let store = try SQLiteJobStore(url: config.state.databaseURL)
        let scheduler = Scheduler(store: store, builder: TranscoderBuilder(logger: logger),
                                  publisher: OutboxPublisher(config: config.outbox),
                                  settings: SchedulerSettings(config: config), logger: logger)
        let intake = Intake(config: config.inbox, logger: logger) { event in
            await Self.handle(event, store: store, scheduler: scheduler, logger: logger)
        }
        let reloader = ConfigReloader(config: config, scheduler: scheduler, logger: logger)
        FileHandle.standardOutput.write(Data(
            "watchfolder: drop videos into \(config.inbox.path.path); packages appear in \(config.outbox.path.path)\n".utf8))
        logger.info("watchfolder started", metadata: [
            "wf.config": "\(config.sourcePath)",
            "wf.inbox": "\(config.inbox.path.path)",
            "wf.outbox": "\(config.outbox.path.path)",
            "wf.state": "\(config.state.path.path)",
        ])
        // Stopped in reverse order: intake first, then the scheduler (which drains), the reloader last.
        var groupConfig = ServiceGroupConfiguration(
            services: [.init(service: reloader), .init(service: scheduler), .init(service: intake)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfig.maximumGracefulShutdownDuration = .seconds(config.transcode.shutdownGraceSeconds + 15)
        try await ServiceGroup(configuration: groupConfig).run()
        logger.info("watchfolder stopped")
    }

    /// Records what intake found and wakes the scheduler.
    static func handle(_ event: IntakeEvent, store: any JobStore, scheduler: Scheduler, logger: Logger) async {
        let files: [InboxFile]
        switch event {
        case let .settled(file): files = [file]
        case let .rescanned(all): files = all
        case let .paused(reason):
            logger.error("intake paused: \(reason)")
            return
        case .resumed:
            logger.notice("intake resumed")
            return
        }
        do {
            let created = try await store.enqueue(files.map(SourceFile.init))
            for job in created {
                logger.info("job queued", metadata: ["wf.job.id": "\(job.id ?? 0)", "wf.job.file": "\(job.sourcePath)",
                                                     "wf.job.state": "queued"])
            }
            if !created.isEmpty { scheduler.wake() }
        } catch {
            logger.error("cannot record \(files.count) file(s): \(error)")
        }
    }
}

extension SourceFile {
    init(_ file: InboxFile) {
        self.init(relativePath: file.relativePath, device: file.fingerprint.device, inode: file.fingerprint.inode,
                  size: file.fingerprint.size, mtimeNanoseconds: file.fingerprint.mtimeNanoseconds)
    }
}

/// SIGHUP: reads the config file again and applies what can change at run time.
struct ConfigReloader: Service {
    let config: Config
    let scheduler: Scheduler
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                let fresh = try ConfigLoader.load(path: config.sourcePath)
                var settings = SchedulerSettings(config: fresh)
                let current = scheduler.settings
                // Folders stay as started: moving them under running jobs would lose files.
                settings.inbox = current.inbox
                settings.failedPath = current.failedPath
                settings.archivePath = current.archivePath
                settings.workRoot = current.workRoot
                scheduler.reload(settings)
                LogSetup.setLevel(fresh.log.level)
                logger.notice("configuration reloaded", metadata: [
                    "wf.concurrency": "\(settings.concurrency)", "wf.log.level": "\(fresh.log.level.rawValue)",
                ])
            } catch {
                logger.error("configuration not reloaded: \(error)")
            }
        }
    }
}
