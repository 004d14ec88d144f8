public import Foundation
public import Logging
import Synchronization

/// Uploads HLS packages to S3 or an S3-compatible store over libcurl (SigV4, multipart, retries, resume).
///
/// Order: media segments, thumbnails and other files first, then the media playlists and `manifest.mpd`,
/// `master.m3u8` last, so a player never sees a master playlist or DASH manifest that points at missing objects, and
/// a package whose master is stored is whole. Each phase completes before the next starts.
///
/// Resume: objects already in the bucket with the same size are skipped. An incomplete multipart upload under the
/// package's prefix (left by a crash) is continued when its object still has to be sent: parts whose size and
/// ETag (MD5) match the local file are kept, the others sent, then it is completed. Any other incomplete upload
/// under the prefix is aborted.
public struct S3Uploader: Sendable {
    public let config: Config.S3
    public let credentials: S3Credentials
    /// How failed requests are retried.
    public var retry = S3RetryPolicy()
    /// Objects larger than this go by multipart upload (16 MiB).
    public var multipartThreshold: Int64 = 16 << 20
    /// The smallest part (8 MiB); larger for huge files so that no object needs more than 10,000 parts.
    public var minimumPartSize: Int64 = 8 << 20
    /// A request that moves no byte for this long times out and is retried (30 s).
    public var stallTimeout: Duration = .seconds(30)
    let logger: Logger

    /// Resolves credentials: the config keys, else `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN`, else `~/.aws/credentials` (profile `AWS_PROFILE`).
    /// - Throws: ``S3Error`` when there are no credentials.
    public init(config: Config.S3, logger: Logger) throws {
        try self.init(config: config, logger: logger, environment: ProcessInfo.processInfo.environment)
    }

    /// As ``init(config:logger:)``, with the environment to read given explicitly.
    public init(config: Config.S3, logger: Logger, environment: [String: String]) throws {
        self.config = config
        self.credentials = try S3Credentials.resolve(config: config, environment: environment)
        var logger = logger
        logger[metadataKey: "wf.s3.bucket"] = "\(config.bucket)"
        self.logger = logger
    }

    /// The public URL of `key`: CloudFront when `cloudfront_domain` is set, else the S3 URL.
    public func publicURL(forKey key: String) -> String {
        if let domain = config.cloudfrontDomain, !domain.isEmpty {
            let base = domain.hasPrefix("http://") || domain.hasPrefix("https://") ? domain : "https://\(domain)"
            return "\(base.trimmingTrailingSlashes())/\(S3Endpoint.encode(key, keepSlash: true))"
        }
        return S3Endpoint(config: config).url(key: key)
    }

    /// The key prefix of a package: `<prefix>/<keyPrefix>`, empty components dropped.
    public func keyBase(for keyPrefix: String) -> String {
        [config.prefix, keyPrefix].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
            .filter { !$0.isEmpty }.joined(separator: "/")
    }

    /// Uploads every file under `directory` to `<prefix>/<keyPrefix>/<relative path>`: segments and thumbnails
    /// first, then media playlists, `master.m3u8` last. Resumable: skips objects already there with the same
    /// size, continues (or aborts) multipart uploads an interrupted run left under the prefix. After the upload the bucket listing is
    /// checked (every object, its size); then, with `delete_local_after_upload`, `directory` is removed.
    /// - Parameters:
    ///   - progress: Called with the package's bytes done so far (skipped objects count as done), from any thread.
    /// - Returns: The master's public URL and what was sent.
    /// - Throws: ``S3Error``, one line: 403 / `NoSuchBucket` at once, transient failures after the retries.
    public func uploadPackage(directory: URL, keyPrefix: String,
                              progress: (@Sendable (Int64) -> Void)?) async throws -> S3UploadResult {
        let keyBase = keyBase(for: keyPrefix)
        let objects = try S3Object.plan(directory: directory, keyBase: keyBase)
        guard let master = objects.first(where: { $0.phase == .master }) else {
            throw S3Error(.localFile, target: directory.path, message: "the package has no master.m3u8")
        }
        let workers = CurlWorkers(count: config.uploadConcurrency)
        defer { workers.shutdown() }
        var client = S3Client(endpoint: S3Endpoint(config: config), credentials: credentials, retry: retry,
                              logger: logger, workers: workers)
        client.stallSeconds = max(1, Int(stallTimeout.components.seconds))
        var logger = logger
        logger[metadataKey: "wf.s3.prefix"] = "\(keyBase)/"
        logger.debug("S3 upload starting", metadata: [
            "wf.s3.objects": "\(objects.count)", "wf.s3.credentials": "\(credentials.source)",
        ])
        let firstFailure = Mutex<(any Error)?>(nil)
        var result: S3UploadResult
        do {
            result = try await withTaskCancellationHandler {
                try await upload(objects, keyBase: keyBase, client: client, logger: logger, progress: progress,
                                 failed: { error in
                                     // The first failure stops the rest at once (queued transfers fail, running
                                     // ones abort), and is the one reported, not the cancellations it causes.
                                     firstFailure.withLock { if $0 == nil { $0 = error } }
                                     workers.cancel()
                                 })
            } onCancel: {
                workers.cancel()
            }
        } catch {
            throw firstFailure.withLock { $0 } ?? error
        }
        result.masterKey = master.key
        result.masterURL = publicURL(forKey: master.key)
        if config.deleteLocalAfterUpload {
            try FileManager.default.removeItem(at: directory)
            result.deletedLocal = true
        }
        logger.debug("S3 upload done", metadata: [
            "wf.s3.uploaded": "\(result.objectsUploaded)", "wf.s3.skipped": "\(result.objectsSkipped)",
            "wf.s3.master": "\(result.masterURL)",
        ])
        return result
    }

    private func upload(_ objects: [S3Object], keyBase: String, client: S3Client, logger: Logger,
                        progress: (@Sendable (Int64) -> Void)?,
                        failed: @escaping @Sendable (any Error) -> Void) async throws -> S3UploadResult {
        let listPrefix = keyBase.isEmpty ? "" : keyBase + "/"
        var result = S3UploadResult(masterURL: "", masterKey: "", keyBase: keyBase, objectsUploaded: 0,
                                    objectsSkipped: 0, bytesUploaded: 0, bytesSkipped: 0, multipartObjects: 0,
                                    staleUploadsAborted: 0, deletedLocal: false)

        // Resume: skip what an interrupted run finished, continue its multipart uploads of objects still to
        // send (keeping the parts that match the local file), abort any other incomplete upload under the prefix.
        let existing = try await listObjects(prefix: listPrefix, client: client)
        let done = ProgressCounter(progress)
        var pending: [S3Object] = []
        for object in objects {
            if existing[object.key] == object.size {
                result.objectsSkipped += 1
                result.bytesSkipped += object.size
                done.add(object.size)
            } else {
                pending.append(object)
            }
        }
        var resumable: [String: (uploadID: String, etags: [Int: String])] = [:]
        let multipartPending = Dictionary(pending.filter { $0.size > multipartThreshold }.map { ($0.key, $0) },
                                          uniquingKeysWith: { a, _ in a })
        for stale in try await listMultipartUploads(prefix: listPrefix, client: client) {
            if let object = multipartPending[stale.key], resumable[stale.key] == nil {
                let parts = try await S3Multipart.reusableParts(of: object, uploadID: stale.uploadID,
                                                                partSize: partSize(for: object.size), client: client)
                resumable[stale.key] = (stale.uploadID, parts)
                logger.debug("resuming a multipart upload", metadata: [
                    "wf.s3.key": "\(stale.key)", "wf.s3.parts.kept": "\(parts.count)",
                ])
                continue
            }
            _ = try await client.send("DELETE", key: stale.key, query: [("uploadId", stale.uploadID)],
                                      operation: "DELETE ?uploadId (stale multipart upload)")
            result.staleUploadsAborted += 1
            logger.debug("aborted a stale multipart upload", metadata: ["wf.s3.key": "\(stale.key)"])
        }
        result.uploadsResumed = resumable.count
        result.partsReused = resumable.values.reduce(0) { $0 + $1.etags.count }

        for phase in S3Object.Phase.allCases {
            let batch = pending.filter { $0.phase == phase }
            try await withThrowingTaskGroup(of: Bool.self) { group in
                var inFlight = 0
                for object in batch {
                    if inFlight == config.uploadConcurrency {
                        if try await group.next() == true { result.multipartObjects += 1 }
                        inFlight -= 1
                    }
                    inFlight += 1
                    let resume = resumable[object.key]
                    group.addTask {
                        do {
                            return try await self.upload(object, resume: resume, client: client, progress: done)
                        } catch {
                            failed(error)
                            throw error
                        }
                    }
                }
                for try await multipart in group where multipart { result.multipartObjects += 1 }
            }
            result.objectsUploaded += batch.count
            result.bytesUploaded += batch.reduce(0) { $0 + $1.size }
        }

        // Verify: every object is listed with its size.
        let listed = try await listObjects(prefix: listPrefix, client: client)
        for object in objects where listed[object.key] != object.size {
            throw S3Error(.verification, operation: "verify", target: client.endpoint.display(key: object.key),
                          message: listed[object.key].map { "listed with \($0) bytes, expected \(object.size)" }
                              ?? "not listed after the upload")
        }
        return result
    }

    /// Uploads one object; returns whether it went by multipart upload.
    private func upload(_ object: S3Object, resume: (uploadID: String, etags: [Int: String])?, client: S3Client,
                        progress: ProgressCounter) async throws -> Bool {
        let headers = ["Content-Type: \(object.contentType)", "Cache-Control: \(object.cacheControl)"]
        if object.size > multipartThreshold {
            try await S3Multipart(object: object, headers: headers, partSize: partSize(for: object.size),
                                  concurrency: config.uploadConcurrency, client: client, progress: progress,
                                  resume: resume).run()
            return true
        }
        let path = object.path, size = object.size
        let hash = try await client.workers.run { _ in try FileDigest.sha256(path: path, offset: 0, length: size) }
        _ = try await client.send("PUT", key: object.key, headers: headers,
                                  body: .file(path: path, offset: 0, length: size), payloadHash: hash)
        progress.add(size)
        return false
    }

    /// Parts of at least ``minimumPartSize``, at most 10,000 of them, a whole number of MiB.
    func partSize(for size: Int64) -> Int64 {
        let mib: Int64 = 1 << 20
        let needed = (size + 9_999) / 10_000
        let rounded = (needed + mib - 1) / mib * mib
        return max(minimumPartSize, rounded)
    }

    /// Keys and sizes under `prefix` (ListObjectsV2, every page).
    func listObjects(prefix: String, client: S3Client) async throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await client.send("GET", key: "", query: query, operation: "GET ?list-type=2")
            let xml = Substring(response.bodyText)
            for entry in S3XML.all("Contents", in: xml, decode: false) {
                if let key = S3XML.first("Key", in: entry), let size = S3XML.first("Size", in: entry).flatMap({ Int64($0) }) {
                    out[key] = size
                }
            }
            token = S3XML.first("IsTruncated", in: xml) == "true" ? S3XML.first("NextContinuationToken", in: xml) : nil
        } while token != nil
        return out
    }

    /// Incomplete multipart uploads under `prefix` (ListMultipartUploads, every page).
    func listMultipartUploads(prefix: String, client: S3Client) async throws -> [(key: String, uploadID: String)] {
        var out: [(key: String, uploadID: String)] = []
        var marker: (key: String, uploadID: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let marker { query += [("key-marker", marker.key), ("upload-id-marker", marker.uploadID)] }
            let response = try await client.send("GET", key: "", query: query, operation: "GET ?uploads")
            let xml = Substring(response.bodyText)
            for entry in S3XML.all("Upload", in: xml, decode: false) {
                if let key = S3XML.first("Key", in: entry), let id = S3XML.first("UploadId", in: entry) {
                    out.append((key, id))
                }
            }
            marker = nil
            if S3XML.first("IsTruncated", in: xml) == "true",
               let key = S3XML.first("NextKeyMarker", in: xml), let id = S3XML.first("NextUploadIdMarker", in: xml) {
                marker = (key, id)
            }
        } while marker != nil
        return out
    }
}
