public import Foundation

/// The transitions of a job after it was claimed.
public enum JobTransition: Sendable, Hashable {
    /// running → publishing: the package is built; where it will be published, and the manifest.
    case publishing(location: String, encoder: String?, manifest: String?)
    /// publishing → completed (`job.completed`), then the source's `on_success` effect.
    case completed(location: String, master: String?, effect: PlannedEffect?)
    /// running → queued after a failed attempt (`job.retrying`), due again after `delay`.
    case retry(error: String, encoder: String?, delay: TimeInterval)
    /// running/publishing/queued → failed (`job.failed`), the source moved to the failed folder.
    case failed(error: String, encoder: String?, effect: PlannedEffect?)
    /// queued/running/publishing → cancelled (`job.cancelled`); the source stays where it is.
    case cancelled(reason: String)
    /// running/publishing → queued without an event: shutdown or a previous life's orphan.
    /// `refund` gives the attempt back (a graceful stop is not the file's fault).
    case requeued(refund: Bool)
    /// failed/cancelled → queued with fresh attempts (`watchfolder retry`, `job.queued`); `effect` moves the
    /// source back into the inbox (when it is `placed` under another name, the job's source takes that name). The
    /// output location stays, so a package that reached it is published from there rather than built again.
    case retried(effect: PlannedEffect?)
}
