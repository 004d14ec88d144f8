import ArgumentParser
import Foundation
import WatchFolder

struct WebhooksResend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend",
        abstract: "Send a delivery again: same webhook-id, new timestamp and signature.",
        discussion: """
            The delivery becomes pending with a fresh 24-hour retry window; the running daemon sends it within a
            second (or at its next start). ID is a delivery id from `watchfolder webhooks`.

            Example:
              watchfolder webhooks resend 17
            """
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "The delivery id.") var id: Int64

    func run() async throws {
        let config = try options.load()
        let info: WebhookDeliveryInfo
        do { info = try await withWebhookQueue(config) { try await $0.resend(id) } } catch let error as WebhookQueueError {
            throw CLIFailure.work("resend: \(error)")
        }
        print("delivery \(id) queued: \(info.event.type.rawValue) \(info.event.uid) to \(info.url)")
    }
}
