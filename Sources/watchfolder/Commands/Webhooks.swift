public import ArgumentParser
import Foundation
public import WatchFolder

/// `watchfolder webhooks`: the delivery queue, and `resend`.
struct Webhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List webhook deliveries, or resend one.",
        discussion: """
            Reads the job store; safe while the daemon runs.

            Example:
              watchfolder webhooks --state failed
              watchfolder webhooks resend 17
            """,
        subcommands: [WebhooksList.self, WebhooksResend.self],
        defaultSubcommand: WebhooksList.self
    )
}

/// Opens the webhook side of the job store of `config`.
func openWebhookQueue(_ config: Config) throws -> WebhookQueue {
    try requireSQLiteStore(config, command: "webhooks")
    do { return try WebhookQueue(store: SQLiteJobStore(url: config.state.databaseURL)) } catch let error as StoreError {
        throw CLIFailure.work(error.description)  // a newer schema: says which store and what to do
    } catch {
        throw CLIFailure.work("cannot open the job store \(config.state.databaseURL.path): \(error)")
    }
}

extension WebhookDelivery.State: ExpressibleByArgument {}
