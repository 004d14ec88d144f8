public import Foundation
public import GRDB

/// One event to deliver to one endpoint: a row of the `delivery` table.
public struct WebhookDelivery: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    /// `pending` until a 2xx answer (`delivered`) or the end of the 24 h retry window (`failed`).
    public enum State: String, Codable, Sendable, Hashable, CaseIterable, DatabaseValueConvertible {
        case pending, delivered, failed
    }

    public static let databaseTableName = "delivery"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64
    public var eventId: Int64
    public var endpointId: Int64
    public var state: State
    /// Requests sent so far (answered or not).
    public var attempts: Int
    /// Not sent before this.
    public var nextAt: Date
    public var windowStartedAt: Date
    public var createdAt: Date
    public var lastAttemptAt: Date?
    /// HTTP status of the last answer, nil when there was none (connection refused, timeout).
    public var lastStatus: Int?
    /// The last failure, one line.
    public var lastError: String?
    public var deliveredAt: Date?
}
