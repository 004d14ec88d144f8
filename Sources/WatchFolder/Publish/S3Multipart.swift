import Crypto
import Foundation

/// One multipart upload: CreateMultipartUpload, the parts in parallel (each streamed from its file range and
/// retried on its own), CompleteMultipartUpload; AbortMultipartUpload when it fails for good.
struct S3Multipart: Sendable {
    let object: S3Object
    let headers: [String]
    let partSize: Int64
    let concurrency: Int
    let client: S3Client
    let progress: ProgressCounter
    /// An upload an interrupted run left, to continue: its id and the parts already there (verified), by number.
    var resume: (uploadID: String, etags: [Int: String])?

    /// Uploads the object (continuing ``resume`` when set); returns how many parts were reused.
    @discardableResult
    func run() async throws -> Int {
        let uploadID: String
        if let resume {
            uploadID = resume.uploadID
        } else {
            let created = try await client.send("POST", key: object.key, query: [("uploads", "")], headers: headers,
                                                operation: "POST ?uploads")
            guard let id = S3XML.first("UploadId", in: Substring(created.bodyText)) else {
                throw S3Error(.http, operation: "POST ?uploads", target: client.endpoint.display(key: object.key),
                              status: created.status, message: "no UploadId in the answer")
            }
            uploadID = id
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
            return resume?.etags.count ?? 0
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
        for (number, etag) in resume?.etags ?? [:] where number >= 1 && number <= count {
            etags[number - 1] = etag
            progress.add(min(partSize, object.size - Int64(number - 1) * partSize))
        }
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var inFlight = 0
            for index in 0..<count where etags[index].isEmpty {
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

extension S3Multipart {
    /// The parts of an interrupted upload of `object` that can be kept: listed (ListParts) with the size this
    /// layout gives them, and an ETag equal to the MD5 of the local bytes (so the part holds this file's data).
    static func reusableParts(of object: S3Object, uploadID: String, partSize: Int64,
                              client: S3Client) async throws -> [Int: String] {
        var listed: [(number: Int, etag: String, size: Int64)] = []
        var marker: String?
        repeat {
            var query = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try await client.send("GET", key: object.key, query: query, operation: "GET ?uploadId (list parts)")
            let xml = Substring(response.bodyText)
            for part in S3XML.all("Part", in: xml, decode: false) {
                if let number = S3XML.first("PartNumber", in: part).flatMap({ Int($0) }),
                   let etag = S3XML.first("ETag", in: part), let size = S3XML.first("Size", in: part).flatMap({ Int64($0) }) {
                    listed.append((number, etag, size))
                }
            }
            marker = S3XML.first("IsTruncated", in: xml) == "true" ? S3XML.first("NextPartNumberMarker", in: xml) : nil
        } while marker != nil

        let count = Int((object.size + partSize - 1) / partSize)
        var reusable: [Int: String] = [:]
        for part in listed where part.number >= 1 && part.number <= count {
            let offset = Int64(part.number - 1) * partSize
            let length = min(partSize, object.size - offset)
            guard part.size == length else { continue }
            let path = object.path
            let md5 = try await client.workers.run { _ in try FileDigest.md5(path: path, offset: offset, length: length) }
            if part.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased() == md5 {
                reusable[part.number] = part.etag
            }
        }
        return reusable
    }
}
