/// The store at a glance, read in one transaction: what `/api/health` and `/metrics` report.
public struct JobSummary: Sendable, Equatable {
    /// Jobs in each state (every state present, zeros included).
    public var counts: [Job.State: Int]
    /// Queued jobs due now (not waiting for a retry delay): the queue depth.
    public var due: Int
    /// The newest event's id (0 when there is none yet).
    public var lastEventID: Int64

    public init(counts: [Job.State: Int], due: Int, lastEventID: Int64) {
        self.counts = counts
        self.due = due
        self.lastEventID = lastEventID
    }
}
