public import Foundation

/// The job a package belongs to, as publishers see it.
public struct PackageInfo: Sendable, Hashable {
    public var jobID: Int64
    /// Source path relative to the inbox.
    public var sourcePath: String
    /// When the job arrived (the layout's date).
    public var createdAt: Date
    /// The master playlist's file name inside the package.
    public var masterName: String

    public init(jobID: Int64, sourcePath: String, createdAt: Date, masterName: String = "master.m3u8") {
        self.jobID = jobID
        self.sourcePath = sourcePath
        self.createdAt = createdAt
        self.masterName = masterName
    }
}

/// Where a package was published.
public struct PublishedLocation: Sendable, Hashable {
    /// The package: an outbox path or an S3 key prefix / URL.
    public var location: String
    /// The master playlist: a path or a URL.
    public var master: String?

    public init(location: String, master: String?) {
        self.location = location
        self.master = master
    }
}

/// Makes a finished package visible: the local outbox (``OutboxPublisher``) or S3.
///
/// The scheduler calls ``reserve(_:)``, records the location in the job (state `publishing`), then
/// ``publish(_:to:package:)``. After a crash it asks ``isPublished(at:)`` so that a package already published
/// completes without being built or published twice; a retry asks ``holdsPackage(at:)`` so that a package whose
/// publishing failed after it reached its location (an S3 upload) is published from there, not built again.
public protocol Publisher: Sendable {
    /// Chooses where the package will go; never the location of an existing package.
    func reserve(_ package: PackageInfo) async throws -> String
    /// Publishes the package built in `directory` at `location`. Idempotent: a package already complete there
    /// is returned as is.
    func publish(_ directory: URL, to location: String, package: PackageInfo) async throws -> PublishedLocation
    /// The published package at `location`, or nil when it is not (completely) there.
    func isPublished(at location: String) async throws -> PublishedLocation?
    /// True when ``publish(_:to:package:)`` can finish at `location` without the work folder: an earlier attempt
    /// already moved the package there (or published it).
    func holdsPackage(at location: String) async -> Bool
}
