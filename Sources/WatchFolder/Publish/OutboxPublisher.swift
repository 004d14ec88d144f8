public import Foundation

/// Publishes packages into the local outbox folder: the built package directory is renamed into place under a
/// name from `[outbox] layout`, with `renameat2(RENAME_NOREPLACE)`: an existing folder is never replaced, and a
/// name holding another job's package gives `-<id>`, then `-<id>-2`...
///
/// Durable: every file of the package is fsynced before the rename, and the outbox folder after it.
public final class OutboxPublisher: Publisher {
    public let root: URL
    public let layout: String

    public init(root: URL, layout: String) {
        self.root = root
        self.layout = layout
    }

    public convenience init(config: Config.Outbox) {
        self.init(root: config.path, layout: config.layout)
    }

    /// Who has a name in the outbox.
    enum Holder: Sendable, Equatable {
        case nobody, thisJob, another
    }

    /// The layout's name for `package`, before any suffix.
    func baseName(_ package: PackageInfo) -> URL {
        root.appendingPathComponent(OutboxLayout.render(layout, package))
    }

    public func reserve(_ package: PackageInfo) async throws -> String {
        let base = baseName(package)
        return try await BlockingIO.run {
            try FreeName.first(base, jobID: package.jobID, keepExtension: false) { Self.holder(of: $0, package) != .another }
        }.path
    }

    public func publish(_ directory: URL, to location: String, package: PackageInfo,
                        relocate: @escaping @Sendable (String) async throws -> Void) async throws -> PublishedLocation {
        var location = location
        for _ in 0..<FreeName.limit {
            let target = URL(fileURLWithPath: location)
            if try await BlockingIO.run({ try Self.claim(directory, at: target, package) }) {
                return PublishedLocation(location: location, master: target.appendingPathComponent(package.masterName).path)
            }
            location = try await reserve(package)
            try await relocate(location)
        }
        throw FileError(call: "choose a free name", path: baseName(package).path, errno: EEXIST)
    }

    public func holdsPackage(at location: String, package: PackageInfo) async -> Bool {
        (try? await isPublished(at: location, package: package)) != nil
    }

    public func isPublished(at location: String, package: PackageInfo) async throws -> PublishedLocation? {
        let url = URL(fileURLWithPath: location)
        return try await BlockingIO.run {
            guard Self.holder(of: url, package) == .thisJob else { return nil }
            let master = (try? FileManager.default.contentsOfDirectory(atPath: location))?
                .first { $0.hasSuffix(".m3u8") && $0.hasPrefix("master") } ?? package.masterName
            return PublishedLocation(location: location, master: url.appendingPathComponent(master).path)
        }
    }

    /// Who has `url`: nobody, this job (its `manifest.json` names the job), or another.
    static func holder(of url: URL, _ package: PackageInfo) -> Holder {
        guard FileOps.lstat(url.path) != nil else { return .nobody }
        return PackageStamp.owner(of: url) == package.jobID ? .thisJob : .another
    }

    /// Puts the package in `directory` at `target` unless another job has that name. True when this job's package
    /// is at `target` (now or already), false when the name is another's.
    /// - Throws: ``FileError``; `ENOENT` when the package is neither in `directory` nor at `target`.
    static func claim(_ directory: URL, at target: URL, _ package: PackageInfo) throws -> Bool {
        switch holder(of: target, package) {
        case .thisJob: return true
        case .another: return false
        case .nobody: break
        }
        guard FileOps.lstat(directory.path) != nil else {
            throw FileError(call: "publish the package of job \(package.jobID)", path: directory.path, errno: ENOENT)
        }
        return try NoReplaceMove.move(directory, to: target, tag: "j\(package.jobID)", syncSourceFolder: false) == .moved
    }
}
