import Foundation

/// Makes folders and whole trees durable: what a rename publishes must already be on disk (the Maildir rule).
///
/// - Important: Every call blocks: run them off the cooperative pool (``BlockingIO``).
enum DurableTree {
    /// Creates `url` and its missing parents, fsyncing the parent of each folder it creates, so a crash cannot
    /// lose a folder that a later rename put something into.
    static func makeDirectories(_ url: URL) throws(FileError) {
        let path = url.standardizedFileURL.path
        guard path != "/" else { return }
        if let st = FileOps.lstat(path) {
            if st.st_mode & S_IFMT == S_IFDIR { return }
            throw FileError(call: "mkdir", path: path, errno: ENOTDIR)
        }
        let parent = url.standardizedFileURL.deletingLastPathComponent()
        try makeDirectories(parent)
        do { try FileOps.mkdir(path) } catch where error.errno == EEXIST { return }
        try FileOps.fsync(parent.path, directory: true)
    }

    /// fsyncs every regular file under `url` (or `url` itself when it is a file), then every folder, `url` last.
    static func sync(_ url: URL) throws(FileError) {
        let root = url.standardizedFileURL.path
        guard let st = FileOps.lstat(root) else { throw FileError(call: "lstat", path: root, errno: ENOENT) }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            try FileOps.fsync(root)
            return
        }
        var folders: [String] = []
        var files: [String] = []
        try walk(root, files: &files, folders: &folders)
        for file in files { try FileOps.fsync(file) }
        for folder in folders.reversed() { try FileOps.fsync(folder, directory: true) }
    }

    /// Removes the tree at `url` (files, folders, links; symbolic links are not followed). Quiet when it is gone.
    static func remove(_ url: URL) throws(FileError) {
        let root = url.standardizedFileURL.path
        guard let st = FileOps.lstat(root) else { return }
        guard st.st_mode & S_IFMT == S_IFDIR else { return try FileOps.unlinkIfPresent(root) }
        var folders: [String] = []
        var files: [String] = []
        try walk(root, files: &files, folders: &folders, everything: true)
        for file in files { try FileOps.unlinkIfPresent(file) }
        for folder in folders.reversed() {
            do { try FileOps.call("rmdir", folder) { rmdir(folder) } } catch where error.errno == ENOENT {}
        }
    }

    /// Copies the tree at `from` to the new folder `to` (files with their mode and modification time), fsyncing
    /// every file and folder it writes.
    static func copy(_ from: URL, to: URL) throws(FileError) {
        let source = from.standardizedFileURL.path
        let target = to.standardizedFileURL.path
        guard let st = FileOps.lstat(source) else { throw FileError(call: "lstat", path: source, errno: ENOENT) }
        guard st.st_mode & S_IFMT == S_IFDIR else { return try FileOps.copyFile(source, to: target) }
        try FileOps.mkdir(target)
        var folders: [String] = []
        var files: [String] = []
        try walk(source, files: &files, folders: &folders)
        for folder in folders.dropFirst() { try FileOps.mkdir(target + folder.dropFirst(source.count)) }
        for file in files { try FileOps.copyFile(file, to: target + file.dropFirst(source.count)) }
        for folder in folders.reversed() { try FileOps.fsync(target + folder.dropFirst(source.count), directory: true) }
    }

    /// Folders (parents before children, `root` first) and regular files under `root`; with `everything`, any
    /// other kind of entry counts as a file too.
    private static func walk(_ root: String, files: inout [String], folders: inout [String],
                             everything: Bool = false) throws(FileError) {
        folders.append(root)
        var index = folders.count - 1
        while index < folders.count {
            let folder = folders[index]
            index += 1
            guard let dir = opendir(folder) else { throw FileError(call: "opendir", path: folder, errno: errno) }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let path = folder + "/" + name
                guard let st = FileOps.lstat(path) else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: folders.append(path)
                case S_IFREG: files.append(path)
                default: if everything { files.append(path) }
                }
            }
        }
    }
}
