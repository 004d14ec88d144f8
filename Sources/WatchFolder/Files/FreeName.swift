import Foundation

/// The names a job may take when its preferred one is taken: `clip.mp4`, then `clip-42.mp4`, `clip-42-2.mp4`,
/// `clip-42-3.mp4`... for job 42 (files keep their extension); `clip`, `clip-42`, `clip-42-2`... for package
/// folders.
enum FreeName {
    /// How far the sequence goes before giving up (a folder flooded with one name).
    static let limit = 10_000

    /// The `n`-th name of the sequence (0 is `base` itself).
    static func candidate(_ base: URL, jobID: Int64, _ n: Int, keepExtension: Bool) -> URL {
        guard n > 0 else { return base }
        let suffix = n == 1 ? "-\(jobID)" : "-\(jobID)-\(n)"
        let name = base.lastPathComponent
        let ext = keepExtension ? (name as NSString).pathExtension : ""
        let stem = ext.isEmpty ? name : (name as NSString).deletingPathExtension
        let renamed = ext.isEmpty ? stem + suffix : "\(stem)\(suffix).\(ext)"
        return base.deletingLastPathComponent().appendingPathComponent(renamed)
    }

    /// The first name of the sequence that `isFree` accepts.
    /// - Throws: ``FileError`` (`EEXIST`) when ``limit`` names were all taken.
    static func first(_ base: URL, jobID: Int64, keepExtension: Bool, isFree: (URL) throws -> Bool) throws -> URL {
        for n in 0..<limit {
            let url = candidate(base, jobID: jobID, n, keepExtension: keepExtension)
            if try isFree(url) { return url }
        }
        throw FileError(call: "choose a free name", path: base.path, errno: EEXIST)
    }
}
