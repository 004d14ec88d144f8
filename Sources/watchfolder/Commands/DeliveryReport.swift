import ArgumentParser
import Foundation
import WatchFolder

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
