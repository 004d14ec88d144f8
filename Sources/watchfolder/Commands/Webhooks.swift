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
private func openOutbox(_ config: Config) throws -> WebhookOutbox {
    do { return WebhookOutbox(store: try SQLiteJobStore(url: config.state.databaseURL)) } catch {
        throw CLIFailure.work("cannot open the job store \(config.state.databaseURL.path): \(error)")
    }
}

/// The JSON shape of a delivery in `watchfolder webhooks --json`. Field names are stable.
struct DeliveryReport: Encodable {
    var id: Int64
    var webhookId: String
    var type: String
    var jobId: Int64
    var url: String
    var state: String
    var attempts: Int
    var nextAt: String?
    var lastStatus: Int?
    var lastError: String?
    var createdAt: String
    var deliveredAt: String?

    enum CodingKeys: String, CodingKey {
        case id, type, url, state, attempts
        case webhookId = "webhook_id", jobId = "job_id", nextAt = "next_at", lastStatus = "last_status"
        case lastError = "last_error", createdAt = "created_at", deliveredAt = "delivered_at"
    }

    init(_ info: WebhookDeliveryInfo) {
        let d = info.delivery
        id = d.id
        webhookId = info.event.uid
        type = info.event.type.rawValue
        jobId = info.event.jobId
        url = info.url
        state = d.state.rawValue
        attempts = d.attempts
        nextAt = d.state == .pending ? WebhookMessage.timestamp(d.nextAt) : nil
        lastStatus = d.lastStatus
        lastError = d.lastError
        createdAt = WebhookMessage.timestamp(d.createdAt)
        deliveredAt = d.deliveredAt.map(WebhookMessage.timestamp)
    }
}

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
        let deliveries = try await openOutbox(config).list(state: state, limit: limit).map(DeliveryReport.init)
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
        do { info = try await openOutbox(config).resend(id) } catch let error as WebhookOutboxError {
            throw CLIFailure.work("resend: \(error)")
        }
        print("delivery \(id) queued: \(info.event.type.rawValue) \(info.event.uid) to \(info.url)")
    }
}

extension WebhookDelivery.State: ExpressibleByArgument {}
