public import Foundation
import Synchronization

/// Publishes packages into the local outbox folder: the built package directory is renamed into place under a
/// name from `[outbox] layout`. An existing package is never overwritten: the name gets `-<id>`.
public final class OutboxPublisher: Publisher {
    public let root: URL
    public let layout: String
    /// Names handed out to jobs still publishing, so two jobs never pick the same one.
    private let reserved = Mutex<Set<String>>([])

    public init(root: URL, layout: String) {
        self.root = root
        self.layout = layout
    }

    public convenience init(config: Config.Outbox) {
        self.init(root: config.path, layout: config.layout)
    }

    public func reserve(_ package: PackageInfo) async throws -> String {
        let relative = OutboxLayout.render(layout, package)
        return reserved.withLock { reserved in
            var candidate = root.appendingPathComponent(relative).path
            if reserved.contains(candidate) || FileManager.default.fileExists(atPath: candidate) {
                candidate += "-\(package.jobID)"
            }
            reserved.insert(candidate)
            return candidate
        }
    }

    public func publish(_ directory: URL, to location: String, package: PackageInfo) async throws -> PublishedLocation {
        defer { _ = reserved.withLock { $0.remove(location) } }
        let target = URL(fileURLWithPath: location)
        if let done = try await isPublished(at: location) { return done }
        try FileEffectRunner.move(directory, to: target)
        return PublishedLocation(location: location, master: target.appendingPathComponent(package.masterName).path)
    }

    public func holdsPackage(at location: String) async -> Bool { (try? await isPublished(at: location)) != nil }

    public func isPublished(at location: String) async throws -> PublishedLocation? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        let url = URL(fileURLWithPath: location)
        let master = (try? FileManager.default.contentsOfDirectory(atPath: location))?
            .first { $0.hasSuffix(".m3u8") && $0.hasPrefix("master") } ?? "master.m3u8"
        return PublishedLocation(location: location, master: url.appendingPathComponent(master).path)
    }
}

/// Renders `[outbox] layout`: `{stem}` (file name without extension), `{id}` (job id), `{yyyy}` `{mm}` `{dd}`
/// (the job's arrival date, UTC) and `{dir}` (the source's folder relative to the inbox, empty at the top).
public enum OutboxLayout {
    public static func render(_ layout: String, _ package: PackageInfo) -> String {
        let source = package.sourcePath as NSString
        let stem = (source.lastPathComponent as NSString).deletingPathExtension
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: package.createdAt)
        let values: [String: String] = [
            "stem": stem,
            "id": "\(package.jobID)",
            "yyyy": String(format: "%04d", parts.year ?? 0),
            "mm": String(format: "%02d", parts.month ?? 0),
            "dd": String(format: "%02d", parts.day ?? 0),
            "dir": source.deletingLastPathComponent,
        ]
        var out = layout
        for (token, value) in values { out = out.replacingOccurrences(of: "{\(token)}", with: value) }
        let components = out.split(separator: "/").filter { !$0.isEmpty && $0 != "." && $0 != ".." }
        return components.isEmpty ? "\(stem)-\(package.jobID)" : components.joined(separator: "/")
    }
}
