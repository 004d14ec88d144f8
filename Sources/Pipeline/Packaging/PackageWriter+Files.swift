import Foundation

extension PackageWriter {
    /// Every regular file under `directory` but the root's `manifest.json`, as sorted relative paths: the manifest's
    /// ``PackageManifest/files``, listed once everything else is written.
    /// - Throws: ``PipelineError`` when the folder cannot be listed.
    static func files(in directory: URL, file: String) throws -> [String] {
        let root = directory.standardizedFileURL.path
        var files: [String] = []
        func walk(_ relative: String) throws {
            let absolute = relative.isEmpty ? root : "\(root)/\(relative)"
            for name in try FileManager.default.contentsOfDirectory(atPath: absolute) {
                let rel = relative.isEmpty ? name : "\(relative)/\(name)"
                var info = stat()
                guard lstat("\(root)/\(rel)", &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    try walk(rel)
                } else if (info.st_mode & S_IFMT) == S_IFREG, rel != "manifest.json" {
                    files.append(rel)
                }
            }
        }
        do {
            try walk("")
        } catch {
            throw PipelineError(.output, file: file, "cannot list the package: \(error.localizedDescription)")
        }
        return files.sorted()
    }
}
