import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP: reads the config file again and applies what can change at run time, between `RELOADING=1` and
/// `READY=1` to systemd (also when the new config is refused: the daemon runs on with the old one).
struct ConfigReloader: Service {
    let config: Config
    let scheduler: Scheduler
    let webhooks: WebhookSender
    let logger: Logger
    let hangups: UnixSignalsSequence

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            notify("RELOADING=1") { try SystemdNotifier.reloading() }
            defer { notify("READY=1") { try SystemdNotifier.ready() } }
            do {
                let fresh = try ConfigLoader.load(path: config.sourcePath)
                var settings = SchedulerSettings(config: fresh)
                let current = scheduler.settings
                // Folders stay as started: moving them under running jobs would lose files.
                settings.inbox = current.inbox
                settings.failedPath = current.failedPath
                settings.archivePath = current.archivePath
                settings.workRoot = current.workRoot
                // So does the node: its running jobs' leases are held under its name.
                settings.node = current.node
                scheduler.reload(settings)
                try await webhooks.reload(fresh.webhooks)
                LogSetup.setLevel(fresh.log.loggerLevel)
                logger.notice("configuration reloaded", metadata: [
                    "wf.concurrency": "\(settings.concurrency)", "wf.log.level": "\(fresh.log.level.rawValue)",
                ])
            } catch {
                logger.error("configuration not reloaded: \(error)")
            }
        }
    }

    private func notify(_ what: String, _ send: () throws -> Bool) {
        do { _ = try send() } catch { logger.warning("systemd notify \(what): \(error)") }
    }
}
