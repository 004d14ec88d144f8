import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The inbox as the intake walks it: which names are candidates, which folders are descended.
///
/// Built from ``Config/Inbox``. Archive and failed folders that lie inside the inbox are never descended, so
/// sources moved there do not come back as new uploads.
struct InboxLayout: Sendable {
    /// The inbox, absolute, without a trailing `/`.
    let root: String
    let recursive: Bool
    let extensions: Set<String>
    let ignore: [String]
    /// Relative paths (inside the inbox) of folders that are never descended.
    let excluded: [String]

    init(_ config: Config.Inbox) {
        let root = Self.normalized(config.path.path)
        self.root = root
        recursive = config.recursive
        extensions = Set(config.extensions.map { $0.lowercased() })
        ignore = config.ignore
        excluded = [config.archivePath, config.failedPath].compactMap { url in
            guard let url else { return nil }
            let path = Self.normalized(url.path)
            return path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : nil
        }
    }

    private static func normalized(_ path: String) -> String {
        // `.`/`..` and doubled `/` removed; symlinks are kept as configured (no resolution).
        var path = URL(fileURLWithPath: path).standardized.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// The absolute path of `relative` (`""` is the inbox itself).
    func absolute(_ relative: String) -> String { relative.isEmpty ? root : root + "/" + relative }

    /// `relative` joined with `name`.
    static func join(_ relative: String, _ name: String) -> String { relative.isEmpty ? name : relative + "/" + name }

    /// True when a name matches one of the `ignore` globs (`fnmatch(3)`, no flags).
    func matchesIgnore(_ name: String) -> Bool {
        ignore.contains { fnmatch($0, name, 0) == 0 }
    }

    /// True when a folder (relative path) is not descended: an ignored name on the way or an excluded folder.
    func isIgnoredDirectory(_ relative: String) -> Bool {
        if relative.isEmpty { return false }
        if !recursive { return true }
        if excluded.contains(where: { relative == $0 || relative.hasPrefix($0 + "/") }) { return true }
        return relative.split(separator: "/").contains { matchesIgnore(String($0)) }
    }

    /// True when a file (relative path) is never taken: ignored name or folder, or an extension not listed.
    func isIgnoredFile(_ relative: String) -> Bool {
        let components = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let name = components.last else { return true }
        if components.count > 1 && isIgnoredDirectory(components.dropLast().joined(separator: "/")) { return true }
        if matchesIgnore(name) { return true }
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return true }
        return !extensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// True when a file (relative path) is a possible sidecar: a `.json`, `.srt` or `.vtt` name that is not ignored.
    /// Intake waits for it to settle like a video, and never reports it as an upload.
    func isSidecar(_ relative: String) -> Bool {
        let components = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let name = components.last, SidecarName.hasSidecarExtension(name), !matchesIgnore(name) else { return false }
        return components.count == 1 || !isIgnoredDirectory(components.dropLast().joined(separator: "/"))
    }

    /// True for a file intake tracks: a video candidate or a sidecar.
    func isTracked(_ relative: String) -> Bool { !isIgnoredFile(relative) || isSidecar(relative) }

    /// Every candidate file (sidecars included) and every descended folder under `relative` (itself included), depth first.
    ///
    /// - Throws: ``IntakeError`` when `relative` itself cannot be opened; sub-folders that vanish or cannot be
    ///   read during the walk are skipped.
    /// - Parameter onDirectory: called with each folder before it is read (the intake adds its watch there,
    ///   so nothing landing during the walk is missed).
    func scan(
        _ relative: String = "", onDirectory: (String) -> Void = { _ in }
    ) throws(IntakeError) -> (files: [InboxFile], directories: [String]) {
        var files: [InboxFile] = []
        var directories: [String] = []
        var pending = [relative]
        var first = true
        while let dir = pending.popLast() {
            let path = absolute(dir)
            onDirectory(dir)
            guard let handle = opendir(path) else {
                if first { throw IntakeError(call: "opendir", errno: errno, path: path) }
                continue
            }
            first = false
            directories.append(dir)
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                let child = Self.join(dir, name)
                let type = Int32(entry.pointee.d_type)
                if type == Int32(DT_DIR) {
                    if !isIgnoredDirectory(child) { pending.append(child) }
                    continue
                }
                guard type == Int32(DT_REG) || type == Int32(DT_UNKNOWN) else { continue }
                if type == Int32(DT_REG) && !isTracked(child) { continue }
                var st = stat()
                guard lstat(absolute(child), &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR where !isIgnoredDirectory(child):
                    pending.append(child)
                case S_IFREG where isTracked(child):
                    files.append(InboxFile(relativePath: child, fingerprint: Fingerprint(st)))
                default:
                    continue
                }
            }
        }
        return (files, directories)
    }

    /// The current fingerprint of `relative` when it is still a regular file.
    func fingerprint(_ relative: String) -> Fingerprint? {
        Fingerprint.of(regularFileAt: absolute(relative))
    }
}
