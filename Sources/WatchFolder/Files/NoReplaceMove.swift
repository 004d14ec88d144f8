import Foundation

/// Moves files and package folders without ever replacing anything, durably.
///
/// Within a filesystem, every file moved (a package's files, segments included) is fsynced, then one
/// `renameat2(RENAME_NOREPLACE)`. Across filesystems, a copy to a staging name beside the
/// target (`.NAME.wf-TAG`), fsynced, then linked (files) or renamed without replacing (folders) to the target, then
/// the source is removed. Filesystems without `RENAME_NOREPLACE` get `link` + `unlink` (files) or `mkdir` of the
/// target + `rename` over that empty folder (folders). Afterwards the target's folder (and the source's) is
/// fsynced, so the move survives a power cut before anyone is told about it.
///
/// - Important: Every call blocks: run them off the cooperative pool (``BlockingIO``).
enum NoReplaceMove {
    enum Outcome: Sendable, Equatable {
        /// The source now has the target's name, on disk.
        case moved
        /// Something else has the target's name; nothing was moved.
        case taken
    }

    /// Moves `source` to `target` unless `target` exists.
    /// - Parameters:
    ///   - tag: unique to the caller (an effect or job id): names the staging copy of a move across filesystems,
    ///     so a run after a crash recognises its own copy.
    ///   - syncSourceFolder: false when the folder the source leaves is scratch (a job's work folder): only the
    ///     target's folder is fsynced then.
    /// - Throws: ``FileError`` when the move fails for another reason (the source is gone, permissions...).
    static func move(_ source: URL, to target: URL, tag: String, syncSourceFolder: Bool = true) throws(FileError) -> Outcome {
        let from = source.standardizedFileURL.path, to = target.standardizedFileURL.path
        let folder = target.standardizedFileURL.deletingLastPathComponent()
        let sourceFolder = source.standardizedFileURL.deletingLastPathComponent().path
        try DurableTree.makeDirectories(folder)
        // The Maildir rule: what appears under the new name is on disk first (a copy across filesystems is
        // fsynced as it is written).
        if let st = FileOps.lstat(from), let target = FileOps.lstat(folder.path), st.st_dev == target.st_dev {
            try DurableTree.sync(source)
        }
        do {
            try FileOps.renameNoReplace(from, to)
        } catch where error.errno == EEXIST {
            return .taken
        } catch where error.errno == EXDEV {
            return try copyAcross(from, to, staging: staging(for: target, tag: tag),
                                  sourceFolder: syncSourceFolder ? sourceFolder : nil)
        } catch where error.errno == EINVAL || error.errno == ENOSYS {
            guard try moveWithoutRenameFlag(from, to) == .moved else { return .taken }
        }
        try FileOps.fsync(folder.path, directory: true)
        if syncSourceFolder, sourceFolder != folder.path { try FileOps.fsync(sourceFolder, directory: true) }
        return .moved
    }

    /// Removes what a move across filesystems interrupted by a crash may have left beside `target`.
    static func removeStaging(for target: URL, tag: String) throws(FileError) {
        try DurableTree.remove(staging(for: target, tag: tag))
    }

    static func staging(for target: URL, tag: String) -> URL {
        target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).wf-\(tag)")
    }

    private static func isDirectory(_ path: String) -> Bool {
        FileOps.lstat(path).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
    }

    /// A filesystem without `RENAME_NOREPLACE`: a hard link (files) or an exclusive `mkdir` (folders) claims the name.
    private static func moveWithoutRenameFlag(_ from: String, _ to: String) throws(FileError) -> Outcome {
        if isDirectory(from) {
            do { try FileOps.mkdir(to) } catch where error.errno == EEXIST { return .taken }
            try FileOps.call("rename", to) { rename(from, to) }  // replaces only the empty folder just made
            return .moved
        }
        do { try FileOps.link(from, to) } catch where error.errno == EEXIST { return .taken }
        try FileOps.unlink(from)
        return .moved
    }

    /// Copy to a staging name, fsync, claim the target, remove the source. A file's staging name stays linked to
    /// the target until the source is gone: a run after a crash sees both names on one inode and only finishes.
    private static func copyAcross(_ from: String, _ to: String, staging: URL, sourceFolder: String?) throws(FileError) -> Outcome {
        let stage = staging.path
        let folder = (to as NSString).deletingLastPathComponent
        let directory = isDirectory(from)
        if !directory, FileOps.sameFile(stage, to) {
            // An earlier run copied and linked it, then stopped before removing the source.
        } else {
            try DurableTree.remove(staging)
            try DurableTree.copy(URL(fileURLWithPath: from), to: staging)
            try FileOps.fsync(folder, directory: true)
            do {
                if directory {
                    try FileOps.renameNoReplace(stage, to)
                } else {
                    do { try FileOps.link(stage, to) } catch where [EPERM, EOPNOTSUPP, EMLINK].contains(error.errno) {
                        try FileOps.renameNoReplace(stage, to)  // no hard links here (FAT, some FUSE filesystems)
                    }
                }
            } catch where error.errno == EEXIST {
                try DurableTree.remove(staging)
                return .taken
            }
            try FileOps.fsync(folder, directory: true)
        }
        try DurableTree.remove(URL(fileURLWithPath: from))
        if let sourceFolder { try FileOps.fsync(sourceFolder, directory: true) }
        try DurableTree.remove(staging)
        return .moved
    }
}
