public import Foundation
public import Logging

/// Publishes packages to the outbox, then to S3 (`[s3]`): the package directory is renamed into the outbox
/// (``OutboxPublisher``), then uploaded with ``S3Uploader`` to `<prefix>/<outbox-relative path>/`.
///
/// The location the scheduler records while publishing is the outbox path; the published location is
/// `s3://<bucket>/<key base>` and the master is its public URL (CloudFront when `cloudfront_domain` is set).
///
/// Idempotent and resumable: a package counts as published only when its master playlist is in the bucket (the
/// uploader stores it last, after everything it points at). Publishing again after a crash re-runs the upload from
/// the outbox copy: objects already there with the same size are skipped, incomplete multipart uploads are
/// continued or aborted.
public final class S3Publisher: Publisher {
    public let outbox: OutboxPublisher
    public let uploader: S3Uploader
    let logger: Logger

    public init(outbox: OutboxPublisher, uploader: S3Uploader, logger: Logger) {
        self.outbox = outbox
        self.uploader = uploader
        self.logger = logger
    }

    /// The outbox of `[outbox]`, then the bucket of `[s3]`.
    /// - Throws: ``S3Error`` when there are no credentials.
    public convenience init(outbox: Config.Outbox, s3: Config.S3, logger: Logger) throws {
        self.init(outbox: OutboxPublisher(config: outbox), uploader: try S3Uploader(config: s3, logger: logger),
                  logger: logger)
    }

    /// The outbox's choice, unless the bucket already holds a package under that name (the local copy may be
    /// gone: `delete_local_after_upload`); then `-<job id>` is added, as the outbox does.
    public func reserve(_ package: PackageInfo) async throws -> String {
        let location = try await outbox.reserve(package)
        let suffix = "-\(package.jobID)"
        guard !location.hasSuffix(suffix) else { return location }
        let existing = try await uploader.listKeys(prefix: uploader.keyBase(for: keyPrefix(for: location)) + "/", limit: 1)
        return existing.isEmpty ? location : location + suffix
    }

    public func publish(_ directory: URL, to location: String, package: PackageInfo) async throws -> PublishedLocation {
        if let done = try await isPublished(at: location, masterName: package.masterName) { return done }
        // The outbox first (a no-op when an earlier run already moved the package there).
        _ = try await outbox.publish(directory, to: location, package: package)
        let result = try await uploader.uploadPackage(directory: URL(fileURLWithPath: location),
                                                      keyPrefix: keyPrefix(for: location), progress: nil)
        logger.info("package uploaded to S3", metadata: [
            "wf.job.id": "\(package.jobID)", "wf.s3.master": "\(result.masterURL)",
            "wf.s3.uploaded": "\(result.objectsUploaded)", "wf.s3.skipped": "\(result.objectsSkipped)",
            "wf.s3.resumed": "\(result.uploadsResumed)", "wf.s3.aborted": "\(result.staleUploadsAborted)",
        ])
        return PublishedLocation(location: s3Location(result.keyBase), master: result.masterURL)
    }

    public func isPublished(at location: String) async throws -> PublishedLocation? {
        try await isPublished(at: location, masterName: "master.m3u8")
    }

    /// The outbox copy the upload resumes from, or the package already in the bucket.
    public func holdsPackage(at location: String) async -> Bool {
        if await outbox.holdsPackage(at: location) { return true }
        return (try? await isPublished(at: location)) != nil
    }

    /// Published when the master playlist is in the bucket under the location's key base.
    func isPublished(at location: String, masterName: String) async throws -> PublishedLocation? {
        let keyBase = uploader.keyBase(for: keyPrefix(for: location))
        let masterKey = keyBase.isEmpty ? masterName : "\(keyBase)/\(masterName)"
        let keys = try await uploader.listKeys(prefix: masterKey, limit: 1)
        guard keys.contains(masterKey) else { return nil }
        return PublishedLocation(location: s3Location(keyBase), master: uploader.publicURL(forKey: masterKey))
    }

    /// The package's path relative to the outbox root: its key under `[s3] prefix`.
    func keyPrefix(for location: String) -> String {
        let root = outbox.root.standardizedFileURL.path
        let path = URL(fileURLWithPath: location).standardizedFileURL.path
        if path.hasPrefix(root + "/") { return String(path.dropFirst(root.count + 1)) }
        return URL(fileURLWithPath: location).lastPathComponent
    }

    private func s3Location(_ keyBase: String) -> String {
        "s3://\(uploader.config.bucket)/\(keyBase)"
    }
}

extension S3Uploader {
    /// Keys under `prefix` (one ListObjectsV2 page of at most `limit` keys).
    func listKeys(prefix: String, limit: Int) async throws -> Set<String> {
        let workers = CurlWorkers(count: 1)
        defer { workers.shutdown() }
        var client = S3Client(endpoint: S3Endpoint(config: config), credentials: credentials, retry: retry,
                              logger: logger, workers: workers)
        client.stallSeconds = max(1, Int(stallTimeout.components.seconds))
        let response = try await client.send("GET", key: "", query: [("list-type", "2"), ("prefix", prefix),
                                                                     ("max-keys", "\(limit)")],
                                             operation: "GET ?list-type=2")
        let xml = Substring(response.bodyText)
        return Set(S3XML.all("Contents", in: xml, decode: false).compactMap { S3XML.first("Key", in: $0) })
    }
}
