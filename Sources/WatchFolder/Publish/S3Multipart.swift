import Crypto

/// One multipart upload: CreateMultipartUpload, the parts in parallel (each streamed from its file range and
/// retried on its own), CompleteMultipartUpload; AbortMultipartUpload when it fails for good.
struct S3Multipart: Sendable {
    let object: S3Object
    let headers: [String]
    let partSize: Int64
    let concurrency: Int
    let client: S3Client
    let progress: ProgressCounter

    func run() async throws {
        let created = try await client.send("POST", key: object.key, query: [("uploads", "")], headers: headers,
                                            operation: "POST ?uploads")
        guard let uploadID = S3XML.first("UploadId", in: Substring(created.bodyText)) else {
            throw S3Error(.http, operation: "POST ?uploads", target: client.endpoint.display(key: object.key),
                          status: created.status, message: "no UploadId in the answer")
        }
        do {
            let etags = try await uploadParts(uploadID: uploadID)
            var xml = "<CompleteMultipartUpload>"
            for (index, etag) in etags.enumerated() {
                xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let body = Array(xml.utf8)
            _ = try await client.send("POST", key: object.key, query: [("uploadId", uploadID)],
                                      headers: ["Content-Type: application/xml"], body: .bytes(body),
                                      payloadHash: SHA256.hash(data: body).hex, operation: "POST ?uploadId (complete)")
        } catch let error as S3Error where error.code != .cancelled {
            // Best effort; a crash instead leaves it to the next run, which aborts stale uploads under the prefix.
            _ = try? await client.send("DELETE", key: object.key, query: [("uploadId", uploadID)],
                                       operation: "DELETE ?uploadId")
            throw error
        }
    }

    /// Uploads every part, at most `concurrency` at once; returns their ETags in part order.
    private func uploadParts(uploadID: String) async throws -> [String] {
        let count = Int((object.size + partSize - 1) / partSize)
        var etags = [String](repeating: "", count: count)
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var inFlight = 0
            for index in 0..<count {
                if inFlight == concurrency {
                    if let (done, etag) = try await group.next() { etags[done] = etag }
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask { (index, try await self.uploadPart(index: index, uploadID: uploadID)) }
            }
            for try await (done, etag) in group { etags[done] = etag }
        }
        return etags
    }

    private func uploadPart(index: Int, uploadID: String) async throws -> String {
        let offset = Int64(index) * partSize
        let length = min(partSize, object.size - offset)
        let path = object.path
        let hash = try await client.workers.run { _ in try FileDigest.sha256(path: path, offset: offset, length: length) }
        let response = try await client.send(
            "PUT", key: object.key, query: [("partNumber", "\(index + 1)"), ("uploadId", uploadID)],
            body: .file(path: path, offset: offset, length: length), payloadHash: hash,
            operation: "PUT ?partNumber=\(index + 1)")
        guard let etag = response.headers["etag"], !etag.isEmpty else {
            throw S3Error(.http, operation: "PUT ?partNumber=\(index + 1)", target: client.endpoint.display(key: object.key),
                          status: response.status, message: "no ETag in the answer")
        }
        progress.add(length)
        return etag
    }
}
