import ArgumentParser
import Foundation
import WatchFolder

struct WebhooksList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List webhook deliveries, newest first.",
        discussion: """
            JSON fields: id, webhook_id, type, job_id, url, state, attempts, next_at, last_status, last_error,
            created_at, delivered_at.

            Example:
              watchfolder webhooks --state pending --json
            """
    )
    @OptionGroup var options: ConfigOption
    @Option(help: "pending, failed or delivered.") var state: WebhookDelivery.State?
    @Option(help: "At most this many deliveries.") var limit: Int = 100
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        guard limit >= 0 else { throw CLIFailure.usage("--limit must be at least 0, not \(limit)") }
        let config = try options.load()
        let deliveries = try await withWebhookQueue(config) { try await $0.list(state: state, limit: limit) }.map(DeliveryReport.init)
        if json {
            try printJSON(deliveries)
            return
        }
        print("ID\tSTATE\tATTEMPTS\tTYPE\tJOB\tWEBHOOK-ID\tURL\tDETAIL")
        for d in deliveries {
            let detail = d.state == "pending" && d.lastError != nil
                ? "\(d.lastError ?? ""); next at \(d.nextAt ?? "")" : (d.lastError ?? "")
            print("\(d.id)\t\(d.state)\t\(d.attempts)\t\(d.type)\t\(d.jobId)\t\(d.webhookId)\t\(d.url)\t\(detail)")
        }
    }
}
