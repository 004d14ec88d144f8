import ArgumentParser
import Foundation
import WatchFolder
import WatchFolderStatus

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: watch the inbox, transcode, publish, notify.",
        discussion: """
            Runs in the foreground until SIGTERM or SIGINT; SIGHUP reloads the config.

            Example:
              watchfolder run --config /etc/watchfolder/config.toml
            """
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        do {
            try StatusServer.check(config.http)
            PrometheusBackend.bootstrap()  // before the daemon records its first metric
            try await Daemon(config: config) { store, webhooks, logger in
                [StatusServer(config: config, store: store, webhookBacklog: { try await webhooks.pendingCount() },
                                     logger: logger) { port in
                    let host = config.http.host.contains(":") ? "[\(config.http.host)]" : config.http.host
                    FileHandle.standardOutput.write(Data("watchfolder: dashboard at http://\(host):\(port)/\n".utf8))
                }]
            }.run()
        } catch let error as StatusServerError {
            throw CLIFailure.work(error.description)
        } catch let error as StateLockError {
            throw CLIFailure.work(error.description)
        } catch let error as StoreError {
            throw CLIFailure.work(error.description)
        } catch let error as PostgresStoreError {
            throw CLIFailure.work(error.description)  // names the store, without its password
        }
    }
}
