import Foundation
import WatchFolder

/// One page of `GET /api/jobs`.
struct JobPage: Encodable, Sendable {
    var jobs: [JobResource]
    /// Pass as `cursor` for the next (older) page; nil on the last page.
    var nextCursor: String?
    enum CodingKeys: String, CodingKey { case jobs, nextCursor = "next_cursor" }
}
