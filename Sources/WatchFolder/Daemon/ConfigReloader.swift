import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP: reads the config file again and applies what can change at run time.
struct ConfigReloader: Service {
    let config: Config
    let scheduler: Scheduler
    let webhooks: WebhookSender
    let logger: Logger
    let hangups: UnixSignalsSequence

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
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
                try webhooks.reload(fresh.webhooks)
                LogSetup.setLevel(fresh.log.loggerLevel)
                logger.notice("configuration reloaded", metadata: [
                    "wf.concurrency": "\(settings.concurrency)", "wf.log.level": "\(fresh.log.level.rawValue)",
                ])
            } catch {
                logger.error("configuration not reloaded: \(error)")
            }
        }
    }
}
