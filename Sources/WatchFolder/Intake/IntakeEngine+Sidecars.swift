import Foundation
import Pipeline

extension IntakeEngine {
    /// True while a sidecar of the video at `path` (same folder, same stem) is still settling.
    func hasUnsettledSidecar(_ path: String) -> Bool {
        let (dir, stem) = Self.folderAndStem(path)
        return tracker.entries.keys.contains { other in
            SidecarName.hasSidecarExtension(other) && layout.isSidecar(other) && Self.folderAndStem(other).dir == dir
                && SidecarName.match((other as NSString).lastPathComponent, stem: stem) != nil
        }
    }

    /// `files` with the sidecars that settled beside each (``InboxFile/sidecars``, ``InboxFile/metadata``): each
    /// opened by descriptor beneath the inbox (no symbolic link, a regular file) and recorded by identity; a
    /// `STEM.json` is read (at most 64 KiB) and must be a JSON object.
    func withSidecars(_ files: [InboxFile]) -> [InboxFile] {
        guard !files.isEmpty else { return files }
        // Sidecars known now, by folder: one pass over what settled, however many videos are reported.
        var byFolder: [String: [String]] = [:]
        for path in known.keys where SidecarName.hasSidecarExtension(path) && layout.isSidecar(path) {
            byFolder[Self.folderAndStem(path).dir, default: []].append(path)
        }
        guard !byFolder.isEmpty else { return files }
        let root = URL(fileURLWithPath: layout.root)
        return files.map { file in
            let (dir, stem) = Self.folderAndStem(file.relativePath)
            var file = file
            for path in (byFolder[dir] ?? []).sorted() {
                let name = (path as NSString).lastPathComponent
                guard let (format, language) = SidecarName.match(name, stem: stem),
                      let (sidecar, text) = Self.readSidecar(path, name: name, format: format, language: language,
                                                            root: root) else { continue }
                file.sidecars.append(sidecar)
                if let text, sidecar.error == nil { file.metadata = text }
            }
            return file
        }
    }

    /// The folder (relative) and the stem of a file's path.
    static func folderAndStem(_ path: String) -> (dir: String, stem: String) {
        let name = (path as NSString).lastPathComponent
        let dir = path.count > name.count ? String(path.dropLast(name.count + 1)) : ""
        return (dir, SidecarName.stem(ofVideo: name))
    }

    /// Opens and checks one sidecar; nil when it is gone. A sidecar the job cannot use carries its `error`.
    static func readSidecar(_ path: String, name: String, format: String, language: String?,
                            root: URL) -> (Sidecar, String?)? {
        let opened: SourceFile
        do {
            opened = try SourceFile.open(path, beneath: root)
        } catch where error.code == .missingInput {
            return nil
        } catch {
            return (Sidecar(name: name, format: format, language: language, bytes: 0, device: 0, inode: 0, mtimeNs: 0,
                            error: "sidecar \(name): \(error.reason)"), nil)
        }
        let s = opened.status
        var sidecar = Sidecar(name: name, format: format, language: language, bytes: s.size,
                              device: Int64(bitPattern: s.device), inode: Int64(bitPattern: s.inode),
                              mtimeNs: s.mtimeNanoseconds)
        guard format == "json" else {
            if s.size > Sidecar.maxSubtitleBytes {
                sidecar.error = "subtitle sidecar \(name) is larger than 4 MiB (\(s.size) bytes)"
            }
            return (sidecar, nil)
        }
        guard s.size <= Int64(Sidecar.maxMetadataBytes) else {
            sidecar.error = "metadata sidecar \(name) is larger than 64 KiB (\(s.size) bytes)"
            return (sidecar, nil)
        }
        let data = Data(opened.read(upTo: Sidecar.maxMetadataBytes + 1).bytes)
        if data.count > Sidecar.maxMetadataBytes {
            sidecar.error = "metadata sidecar \(name) is larger than 64 KiB"
        } else if let reason = invalidJSONObject(data) {
            sidecar.error = "metadata sidecar \(name) \(reason)"
        }
        return (sidecar, sidecar.error == nil ? String(decoding: data, as: UTF8.self) : nil)
    }

    /// Why `data` is not a JSON object (one line), or nil.
    static func invalidJSONObject(_ data: Data) -> String? {
        guard String(data: data, encoding: .utf8) != nil else { return "is not UTF-8 text" }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            return "is not valid JSON"
        }
        return value is [String: Any] ? nil : "is not a JSON object"
    }
}
