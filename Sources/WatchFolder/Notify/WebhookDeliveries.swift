public import Foundation

/// The webhook delivery queue as the sender, the CLI and the status server use it, on either job store: the SQLite
/// store's (``WebhookQueue``) or the cluster's PostgreSQL store's (``PostgresWebhookQueue``). The deliveries of an
/// event are created in the transaction that records the event (a trigger of the store's database), so an event that
/// exists has its deliveries on both.
public protocol WebhookDeliveries: Sendable {
    /// Makes the configured endpoints the active ones (see ``WebhookQueue/register(_:now:)``).
    /// - Returns: The endpoint id of each configured URL.
    @discardableResult
    func register(_ webhooks: [Config.Webhook], now: Date) async throws -> [String: Int64]

    /// What the sender of endpoint `id` does next: send its oldest pending delivery (due or not), wait for a commit
    /// (nothing pending), or leave it to the node that sends that endpoint's queue now (a cluster's store).
    func next(endpoint id: Int64) async throws -> WebhookHead

    /// The engine's manifest (JSON) of job `id`, if it has one.
    func manifest(job id: Int64) async throws -> String?
    /// A 2xx answer: the delivery is done.
    func markDelivered(_ id: Int64, status: Int, now: Date) async throws
    /// Any other outcome: try again at `next`, or `failed` when `next` is nil.
    func markAttemptFailed(_ id: Int64, status: Int?, error: String, next: Date?, now: Date) async throws
    /// Deliveries waiting: not yet delivered, not given up.
    func pendingCount() async throws -> Int
    /// Newest first, optionally only `state`.
    func list(state: WebhookDelivery.State?, limit: Int) async throws -> [WebhookDeliveryInfo]
    /// `watchfolder webhooks resend ID`: pending again, due now, with a fresh 24 h window.
    /// - Throws: ``WebhookQueueError`` when there is no such delivery.
    func resend(_ id: Int64, now: Date) async throws -> WebhookDeliveryInfo
    /// A waiter woken by commits that may concern the queue (new events, `webhooks resend`), from any process.
    func commitWaiter() -> CommitWaiter
}

/// What an endpoint's sender does next (``WebhookDeliveries/next(endpoint:)``).
public enum WebhookHead: Sendable, Hashable {
    /// Nothing pending: wait for a commit.
    case empty
    /// The endpoint's oldest pending delivery: later ones wait behind it, so every endpoint sees events in order.
    case delivery(WebhookDeliveryInfo)
    /// Another node sends this endpoint's queue, and holds it until then (or until it finds the queue empty).
    case elsewhere(until: Date)
}

extension WebhookDeliveries {
    @discardableResult
    public func register(_ webhooks: [Config.Webhook]) async throws -> [String: Int64] {
        try await register(webhooks, now: Date())
    }

    public func markDelivered(_ id: Int64, status: Int) async throws {
        try await markDelivered(id, status: status, now: Date())
    }

    public func markAttemptFailed(_ id: Int64, status: Int?, error: String, next: Date?) async throws {
        try await markAttemptFailed(id, status: status, error: error, next: next, now: Date())
    }

    public func list(state: WebhookDelivery.State?) async throws -> [WebhookDeliveryInfo] {
        try await list(state: state, limit: 1000)
    }

    public func resend(_ id: Int64) async throws -> WebhookDeliveryInfo {
        try await resend(id, now: Date())
    }
}
