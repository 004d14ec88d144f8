import Foundation
import Hummingbird
import NIOPosix
import Pipeline
import WatchFolder

/// Serves a completed job's poster and thumbnails from its package: read from the outbox folder, or a
/// redirect to the package's URL when it was published to S3/CloudFront. Files are read on NIO's thread pool,
/// never on the cooperative pool that serves requests.
enum PackageFiles {
    /// `relative` (a path from the job's manifest) of the job's package as a response.
    /// - Throws: ``APIError`` 404 when the job has no package or the file is not there.
    static func response(job: Job, relative: String) async throws -> Response {
        guard !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else {
            throw APIError.notFound("no such file in the package of job \(job.id ?? 0)")
        }
        if let master = job.masterLocation, master.hasPrefix("http://") || master.hasPrefix("https://"),
           let base = URL(string: master)?.deletingLastPathComponent() {
            return Response(status: .found, headers: [.location: base.appendingPathComponent(relative).absoluteString])
        }
        guard let location = job.outputLocation ?? job.masterLocation.map({ ($0 as NSString).deletingLastPathComponent }) else {
            throw APIError.notFound("job \(job.id ?? 0) has no package")
        }
        let url = URL(fileURLWithPath: location).appendingPathComponent(relative)
        guard let data = try await NIOThreadPool.singleton.runIfActive({ FileManager.default.contents(atPath: url.path) }) else {
            throw APIError.notFound("\(relative) of job \(job.id ?? 0) is not available")
        }
        let type = url.pathExtension.lowercased() == "png" ? "image/png" : "image/jpeg"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=3600"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The manifest of a job that has a package (publishing or completed).
    static func manifest(_ job: Job) throws -> ManifestView {
        guard let manifest = ManifestView(json: job.manifest) else {
            throw APIError.notFound("job \(job.id ?? 0) has no package yet")
        }
        return manifest
    }
}
