import Foundation
import WatchFolder

/// `GET /api/dashboard`: what the dashboard shows, each section bounded whatever the queue length.
struct DashboardView: Encodable, Sendable {
    static let runningLimit = 100
    static let nextLimit = 20
    static let recentLimit = 10

    /// Running and publishing jobs, longest running first.
    var running: [JobResource]
    /// The next queued jobs, in the order the scheduler takes them.
    var next: [JobResource]
    /// Queued jobs after `next`.
    var moreQueued: Int
    /// The latest completed jobs, most recent first.
    var completed: [JobResource]
    /// The latest failed or cancelled jobs, most recent first.
    var failed: [JobResource]
    /// Every node of the job store (`GET /api/nodes`).
    var nodes: [NodeStatus]

    enum CodingKeys: String, CodingKey { case running, next, moreQueued = "more_queued", completed, failed, nodes }
}
