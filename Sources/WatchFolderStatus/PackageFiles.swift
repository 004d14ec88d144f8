import Foundation
import Hummingbird
import NIOPosix
import Pipeline
import WatchFolder

/// Serves files a completed job's manifest names (its poster, thumbnails, storyboard) from its package: read
/// from the outbox folder, or a redirect to the package's URL when it was published to S3/CloudFront.
///
/// A manifest is another builder's text and a package folder may hold anything, so a file is opened by
/// descriptor beneath the package folder (``SourceFile/open(_:beneath:)``: no `..`, no absolute path, no symbolic
/// link on any component), must be a regular file within its kind's size bound, and is served only when its
/// extension is one of ``kinds``. Files are read on NIO's thread pool, never on the cooperative pool that serves
/// requests.
enum PackageFiles {
    /// What is served, by extension: its `Content-Type` and the most bytes read.
    static let kinds: [String: (type: String, maxBytes: Int64)] = [
        "jpg": ("image/jpeg", 32 << 20), "jpeg": ("image/jpeg", 32 << 20), "png": ("image/png", 32 << 20),
        "vtt": ("text/vtt; charset=utf-8", 1 << 20),
    ]

    /// `relative` (a path from the job's manifest) of the job's package as a response.
    /// - Throws: ``APIError`` 404 when the job has no package, or the file is not there, is not a plain regular
    ///   file beneath the package, is not of a served kind or is larger than its bound.
    static func response(job: Job, relative: String) async throws -> Response {
        let id = job.id ?? 0
        guard let kind = kinds[(relative as NSString).pathExtension.lowercased()], !relative.hasPrefix("/"),
              !relative.split(separator: "/").contains("..") else {
            throw APIError.notFound("no such file in the package of job \(id)")
        }
        if let master = job.masterLocation, master.hasPrefix("http://") || master.hasPrefix("https://"),
           let base = URL(string: master)?.deletingLastPathComponent() {
            return Response(status: .found, headers: [.location: base.appendingPathComponent(relative).absoluteString])
        }
        guard let location = job.outputLocation ?? job.masterLocation.map({ ($0 as NSString).deletingLastPathComponent }) else {
            throw APIError.notFound("job \(id) has no package")
        }
        let root = URL(fileURLWithPath: location)
        let data = try await NIOThreadPool.singleton.runIfActive { () -> [UInt8]? in
            guard let file = try? SourceFile.open(relative, beneath: root), file.status.size <= kind.maxBytes else { return nil }
            return read(file)
        }
        guard let data else { throw APIError.notFound("\(relative) of job \(id) is not available") }
        return Response(status: .ok, headers: [.contentType: kind.type, .cacheControl: "private, max-age=3600",
                                               .init("X-Content-Type-Options")!: "nosniff"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The `status.size` bytes of `file` seen at open (so bytes appended since are not read); nil on a read error
    /// or when the file shrank.
    private static func read(_ file: SourceFile) -> [UInt8]? {
        let size = Int(file.status.size)
        let (bytes, failure) = file.read(upTo: size)
        return failure == nil && bytes.count == size ? bytes : nil
    }

    /// The manifest of a job that has a package (publishing or completed).
    static func manifest(_ job: Job) throws -> ManifestView {
        guard let manifest = ManifestView(json: job.manifest) else {
            throw APIError.notFound("job \(job.id ?? 0) has no package yet")
        }
        return manifest
    }
}
