import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the intake tells its consumer (the job store).
public enum IntakeEvent: Sendable, Hashable {
    /// An upload is complete: after its last `CLOSE_WRITE`/`MOVED_TO` (or, when polling, its last change) the
    /// file's size and mtime stayed unchanged for `settle_seconds`.
    case settled(InboxFile)
    /// A full rescan ended (start-up, inotify queue overflow, a poll pass, the inbox coming back): every candidate
    /// file present now whose fingerprint has been stable for `settle_seconds`. Files still changing are not
    /// listed; each gets its own ``settled(_:)`` later. The consumer reconciles these with its store; a file
    /// missing from the list is *not* a deletion.
    case rescanned([InboxFile])
    /// The inbox vanished, was unmounted or cannot be read: intake stopped until it is back. Never means
    /// "files deleted".
    case paused(reason: String)
    /// The inbox is back after ``paused(reason:)``; a ``rescanned(_:)`` follows.
    case resumed
}
