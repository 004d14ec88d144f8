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

extension WebhookDelivery.State: ExpressibleByArgument {}
