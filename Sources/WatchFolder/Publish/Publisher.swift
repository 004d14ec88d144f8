public import Foundation

/// Makes a finished package visible: the local outbox (``OutboxPublisher``) or S3.
///
/// A name is a reservation. The scheduler calls ``reserve(_:)`` for a first choice, records it in the job (state
/// `publishing`), then ``publish(_:to:package:relocate:)``, which claims the name atomically (a rename that never
/// replaces; on S3 a conditional write of the package's `manifest.json`). When the name holds another job's
/// package, the publisher takes the next free one (`NAME-<id>`, `NAME-<id>-2`...) and hands it to `relocate`, which
/// records it in the job before it is claimed; so after a crash at any point the job finds its own name again.
///
/// A package belongs to a job only when its `manifest.json` says `job_id` = that job: ``isPublished(at:package:)``
/// and ``holdsPackage(at:package:)`` never mistake another job's package for this one's.
public protocol Publisher: Sendable {
    /// The first name to try: the layout's, or the next one when that is visibly another job's. Claims nothing.
    func reserve(_ package: PackageInfo) async throws -> String
    /// Publishes the package built in `directory` at `location` (or at the next free name, recorded through
    /// `relocate` before it is claimed). Every file is on disk before the package appears, and the rename is on
    /// disk before this returns. Idempotent: this job's package already complete there is returned as is.
    func publish(_ directory: URL, to location: String, package: PackageInfo,
                 relocate: @escaping @Sendable (String) async throws -> Void) async throws -> PublishedLocation
    /// This job's package, published at `location`; nil when it is not (completely) there, or is another job's.
    func isPublished(at location: String, package: PackageInfo) async throws -> PublishedLocation?
    /// True when ``publish(_:to:package:relocate:)`` can finish at `location` without the work folder: an earlier
    /// attempt already moved this job's package there (or published it).
    func holdsPackage(at location: String, package: PackageInfo) async -> Bool
}
