import Foundation
public import Logging

/// Carries out ``FileEffect`` rows after their transition committed. Every effect is idempotent: run it again
/// after a crash at any point and the files converge (moved once, error file written once, nothing lost).
public struct FileEffectRunner: Sendable {
    public let store: any JobStore
    public let logger: Logger

    public init(store: any JobStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Runs every pending effect (of job `id` only, when given), oldest first; a failing effect is logged and
    /// stays pending for the next run.
    public func runPending(job id: Int64? = nil) async {
        let effects: [FileEffect]
        do { effects = try await store.pendingEffects(job: id) } catch {
            logger.warning("cannot read pending file effects: \(error)")
            return
        }
        for effect in effects {
            do {
                try Self.apply(effect)
                if let effectID = effect.id { try await store.markEffectDone(effectID) }
            } catch {
                var logger = logger
                logger[metadataKey: "wf.job.id"] = "\(effect.jobId)"
                logger.warning("file effect \(effect.kind.rawValue) of \(effect.source) failed: \(error)")
            }
        }
    }

    /// Applies one effect to the file system.
    static func apply(_ effect: FileEffect) throws {
        let fm = FileManager.default
        let source = URL(fileURLWithPath: effect.source)
        switch effect.kind {
        case .delete:
            if isSameFile(source, effect) { try fm.removeItem(at: source) }
        case .archive:
            guard let target = effect.target.map(URL.init(fileURLWithPath:)), isSameFile(source, effect) else { return }
            try move(source, to: freeName(target, jobID: effect.jobId))
        case .fail:
            guard let target = effect.target.map(URL.init(fileURLWithPath:)) else { return }
            let errorFile = URL(fileURLWithPath: target.path + ".error.txt")
            if isSameFile(source, effect) {
                try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data((effect.note ?? "").utf8).write(to: errorFile, options: .atomic)
                try move(source, to: target)
            } else if fm.fileExists(atPath: target.path), !fm.fileExists(atPath: errorFile.path) {
                try Data((effect.note ?? "").utf8).write(to: errorFile, options: .atomic)
            }
        case .restore:
            guard let target = effect.target.map(URL.init(fileURLWithPath:)) else { return }
            if fm.fileExists(atPath: source.path) {
                try move(source, to: target)
            }
            try? fm.removeItem(atPath: source.path + ".error.txt")
        }
    }

    /// True when `url` is the job's file (same device and inode).
    static func isSameFile(_ url: URL, _ effect: FileEffect) -> Bool {
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return false }
        return Int64(bitPattern: UInt64(st.st_dev)) == effect.device && Int64(bitPattern: UInt64(st.st_ino)) == effect.inode
    }

    /// `target`, or `NAME-<id>.EXT` beside it when something is already there.
    static func freeName(_ target: URL, jobID: Int64) -> URL {
        guard FileManager.default.fileExists(atPath: target.path) else { return target }
        let ext = target.pathExtension
        let stem = target.deletingPathExtension().lastPathComponent
        let name = ext.isEmpty ? "\(stem)-\(jobID)" : "\(stem)-\(jobID).\(ext)"
        return target.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// rename(2), falling back to copy + unlink across file systems; the parent is created.
    static func move(_ source: URL, to target: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(source.path, target.path) == 0 { return }
        let code = errno
        guard code == EXDEV else { throw FileEffectError(call: "rename", path: source.path, errno: code) }
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).wf-partial")
        try? fm.removeItem(at: staging)
        try fm.copyItem(at: source, to: staging)
        guard rename(staging.path, target.path) == 0 else {
            throw FileEffectError(call: "rename", path: staging.path, errno: errno)
        }
        try fm.removeItem(at: source)
    }
}

/// A failed system call of a file effect: `rename(/in/a.mp4): No such file or directory (errno 2)`.
public struct FileEffectError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var path: String
    public var errno: Int32
    public var description: String { "\(call)(\(path)): \(String(cString: strerror(errno))) (errno \(errno))" }
}
