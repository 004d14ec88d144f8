import Crypto
public import Foundation
public import Logging

/// Publishes packages to the outbox, then to S3 (`[s3]`): the package directory is renamed into the outbox
/// (``OutboxPublisher``), then uploaded with ``S3Uploader`` to `<prefix>/<outbox-relative path>/`.
///
/// The location the scheduler records while publishing is the outbox path; the published location is
/// `s3://<bucket>/<key base>` and the master is its public URL (CloudFront when `cloudfront_domain` is set).
///
/// A key prefix is a reservation too: it is this job's only when the bucket's `manifest.json` there names this job
/// (`job_id`). The package's manifest is written first, with `If-None-Match: *` (a conditional write: refused
/// when another writer got there first); a prefix holding anything else belongs to another package, and the name
/// moves on to `-<id>`, `-<id>-2`..., in the outbox and the bucket together.
///
/// Idempotent and resumable: a package counts as published only when its master playlist is in the bucket (the
/// uploader stores it last, after everything it points at) under this job's manifest. Publishing again after a
/// crash re-runs the upload from the outbox copy: objects already there with the same size are skipped,
/// incomplete multipart uploads are continued or aborted.
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

    /// The first name that is free (or this job's) both in the outbox and in the bucket (the local copy may be
    /// gone: `delete_local_after_upload`).
    public func reserve(_ package: PackageInfo) async throws -> String {
        let base = outbox.baseName(package)
        for n in 0..<FreeName.limit {
            let candidate = FreeName.candidate(base, jobID: package.jobID, n, keepExtension: false)
            guard try await BlockingIO.run({ OutboxPublisher.holder(of: candidate, package) }) != .another else { continue }
            guard try await holder(of: candidate.path, package) != .another else { continue }
            return candidate.path
        }
        throw FileError(call: "choose a free name", path: base.path, errno: EEXIST)
    }

    public func publish(_ directory: URL, to location: String, package: PackageInfo,
                        relocate: @escaping @Sendable (String) async throws -> Void) async throws -> PublishedLocation {
        var location = location
        var built = directory  // where this job's package is: the work folder, then its outbox folder
        for _ in 0..<FreeName.limit {
            if let done = try await isPublished(at: location, package: package) { return done }
            let target = URL(fileURLWithPath: location)
            // The outbox first (nothing to do when an earlier run already moved the package there; a package this
            // job put under a name it then lost in the bucket moves along), then the bucket's prefix, claimed by the
            // package's manifest.
            if try await BlockingIO.run({ [built] in try OutboxPublisher.claim(built, at: target, package) }) {
                built = target
                let bucket = try await holder(of: location, package)
                let claimed = bucket == .nobody ? try await claimPrefix(at: location, package) : bucket == .thisJob
                if claimed { return try await upload(from: target, at: location, package) }
            }
            location = try await reserve(package)
            try await relocate(location)
        }
        throw FileError(call: "choose a free name", path: outbox.baseName(package).path, errno: EEXIST)
    }

    private func upload(from folder: URL, at location: String, _ package: PackageInfo) async throws -> PublishedLocation {
        let result = try await uploader.uploadPackage(directory: folder, keyPrefix: keyPrefix(for: location), progress: nil)
        logger.info("package uploaded to S3", metadata: [
            "wf.job.id": "\(package.jobID)", "wf.s3.master": "\(result.masterURL)",
            "wf.s3.uploaded": "\(result.objectsUploaded)", "wf.s3.skipped": "\(result.objectsSkipped)",
            "wf.s3.resumed": "\(result.uploadsResumed)", "wf.s3.aborted": "\(result.staleUploadsAborted)",
        ])
        return PublishedLocation(location: s3Location(result.keyBase), master: result.masterURL)
    }

    /// Writes the package's `manifest.json` (naming this job) to the prefix unless something is there already.
    /// False when another writer's manifest won.
    private func claimPrefix(at location: String, _ package: PackageInfo) async throws -> Bool {
        let file = URL(fileURLWithPath: location).appendingPathComponent(PackageStamp.manifestName)
        let data = try await BlockingIO.run { try Data(contentsOf: file) }
        guard PackageStamp.jobID(in: data) == package.jobID else {
            throw S3Error(.localFile, target: file.path, message: "the package's manifest does not name job \(package.jobID)")
        }
        if try await uploader.putIfAbsent(key: manifestKey(location), data: data) { return true }
        return try await holder(of: location, package) == .thisJob
    }

    public func isPublished(at location: String, package: PackageInfo) async throws -> PublishedLocation? {
        guard try await holder(of: location, package) == .thisJob else { return nil }
        let keyBase = uploader.keyBase(for: keyPrefix(for: location))
        let masterKey = keyBase.isEmpty ? package.masterName : "\(keyBase)/\(package.masterName)"
        let keys = try await uploader.listKeys(prefix: masterKey, limit: 1)
        guard keys.contains(masterKey) else { return nil }
        return PublishedLocation(location: s3Location(keyBase), master: uploader.publicURL(forKey: masterKey))
    }

    /// The outbox copy the upload resumes from, or the package already in the bucket.
    public func holdsPackage(at location: String, package: PackageInfo) async -> Bool {
        if await outbox.holdsPackage(at: location, package: package) { return true }
        return (try? await isPublished(at: location, package: package)) != nil
    }

    /// Who has the location's key prefix: this job (its manifest there names the job), another (any other manifest,
    /// or objects without one), or nobody.
    func holder(of location: String, _ package: PackageInfo) async throws -> OutboxPublisher.Holder {
        let manifestKey = manifestKey(location)
        // Listed before it is read: without ListBucket rights on a missing key, S3 answers 403 rather than 404.
        if try await uploader.listKeys(prefix: manifestKey, limit: 1).contains(manifestKey),
           let manifest = try await uploader.object(key: manifestKey) {
            return PackageStamp.jobID(in: manifest) == package.jobID ? .thisJob : .another
        }
        let keyBase = uploader.keyBase(for: keyPrefix(for: location))
        let listed = try await uploader.listKeys(prefix: keyBase.isEmpty ? "" : keyBase + "/", limit: 1)
        return listed.isEmpty ? .nobody : .another
    }

    private func manifestKey(_ location: String) -> String {
        let keyBase = uploader.keyBase(for: keyPrefix(for: location))
        return keyBase.isEmpty ? PackageStamp.manifestName : "\(keyBase)/\(PackageStamp.manifestName)"
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
    /// A client on one connection thread of its own, for the publisher's single requests.
    private func singleClient() -> (S3Client, CurlWorkers) {
        let workers = CurlWorkers(count: 1)
        var client = S3Client(endpoint: S3Endpoint(config: config), credentials: credentials, retry: retry,
                              logger: logger, workers: workers)
        client.stallSeconds = max(1, Int(stallTimeout.components.seconds))
        return (client, workers)
    }

    /// The object at `key`, or nil when there is none (404).
    func object(key: String) async throws -> Data? {
        let (client, workers) = singleClient()
        defer { workers.shutdown() }
        do {
            return Data(try await client.send("GET", key: key, operation: "GET").body)
        } catch {
            if error.status == 404 { return nil }
            throw error
        }
    }

    /// PUTs `data` at `key` with `If-None-Match: *`: false when the key already exists (412), so two writers never
    /// both believe they created it (where the server supports conditional writes, as AWS S3 and MinIO do).
    func putIfAbsent(key: String, data: Data) async throws -> Bool {
        let (client, workers) = singleClient()
        defer { workers.shutdown() }
        let ext = (key as NSString).pathExtension
        let headers = ["Content-Type: \(S3Object.contentType(forExtension: ext))",
                       "Cache-Control: \(S3Object.cacheControl(forExtension: ext))", "If-None-Match: *"]
        do {
            _ = try await client.send("PUT", key: key, headers: headers, body: .bytes(Array(data)),
                                      payloadHash: SHA256.hash(data: data).hex, operation: "PUT (If-None-Match)")
            return true
        } catch {
            // 412: the key exists; 409: a conditional write racing another one (AWS).
            if error.status == 412 || error.status == 409 { return false }
            throw error
        }
    }

    /// Keys under `prefix` (one ListObjectsV2 page of at most `limit` keys).
    func listKeys(prefix: String, limit: Int) async throws -> Set<String> {
        let (client, workers) = singleClient()
        defer { workers.shutdown() }
        let response = try await client.send("GET", key: "", query: [("list-type", "2"), ("prefix", prefix),
                                                                     ("max-keys", "\(limit)")],
                                             operation: "GET ?list-type=2")
        let xml = Substring(response.bodyText)
        return Set(S3XML.all("Contents", in: xml, decode: false).compactMap { S3XML.first("Key", in: $0) })
    }
}
