import Foundation
import WatchFolder

/// `GET /api/health`.
struct Health: Encodable, Sendable {
    var status = "ok"
    var version: String
    var jobs: [String: Int]
    var queueDepth: Int
    var lastEventID: Int64
    enum CodingKeys: String, CodingKey { case status, version, jobs, queueDepth = "queue_depth", lastEventID = "last_event_id" }
}
