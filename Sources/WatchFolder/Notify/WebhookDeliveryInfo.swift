import Foundation

/// A delivery with its event and endpoint, as the sender and `watchfolder webhooks` see it.
public struct WebhookDeliveryInfo: Sendable, Hashable {
    public var delivery: WebhookDelivery
    public var event: JobEvent
    public var url: String
}
