import Foundation

/// One file of a package as it will be stored: key, headers, and the phase it is uploaded in.
struct S3Object: Sendable, Hashable {
    /// Upload order: everything a playlist points at first, then the playlists, the master playlist last.
    enum Phase: Int, Sendable, Comparable, CaseIterable {
        /// Media segments, init segments, thumbnails and any other file.
        case media
        /// Media (variant) playlists, and `manifest.mpd` at the root of the package: stored before the master, whose
        /// presence tells that a package is published (``S3Publisher/isPublished(at:package:)``).
        case mediaPlaylist
        /// `master.m3u8` at the root of the package.
        case master

        static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
    }

    var key: String
    var path: String
    var size: Int64
    var phase: Phase
    var contentType: String
    var cacheControl: String

    /// `Cache-Control` of segments, thumbnails and other immutable files: a year, immutable.
    static let immutableCacheControl = "public, max-age=31536000, immutable"
    /// `Cache-Control` of playlists and JSON documents: one minute.
    static let shortCacheControl = "public, max-age=60"

    /// `Content-Type` by extension; `application/octet-stream` for anything else.
    static func contentType(forExtension ext: String) -> String {
        switch ext.lowercased() {
        case "m3u8": "application/vnd.apple.mpegurl"
        case "mpd": "application/dash+xml"
        case "ts": "video/mp2t"
        case "m4s": "video/iso.segment"
        case "mp4": "video/mp4"
        case "m4a": "audio/mp4"
        case "aac": "audio/aac"
        case "vtt": "text/vtt"
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "webp": "image/webp"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    /// Playlists, the DASH manifest and JSON may be rewritten (short cache); everything else is content-addressed by
    /// its package.
    static func cacheControl(forExtension ext: String) -> String {
        switch ext.lowercased() {
        case "m3u8", "mpd", "json": shortCacheControl
        default: immutableCacheControl
        }
    }

    /// Every regular file under `directory` (recursively, hidden files included, symlinks followed), keyed
    /// `keyBase/relative/path`, sorted by phase then key.
    /// - Throws: ``S3Error`` (`localFile`) when the directory cannot be read.
    static func plan(directory: URL, keyBase: String) throws -> [S3Object] {
        let root = directory.standardizedFileURL.path
        var objects: [S3Object] = []
        func walk(_ relative: String) throws {
            let absolute = relative.isEmpty ? root : "\(root)/\(relative)"
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: absolute) } catch {
                throw S3Error(.localFile, target: absolute, message: "cannot list the package directory: \(error.localizedDescription)")
            }
            for name in names.sorted() {
                let rel = relative.isEmpty ? name : "\(relative)/\(name)"
                var info = stat()
                guard stat("\(root)/\(rel)", &info) == 0 else {
                    throw S3Error(.localFile, target: "\(root)/\(rel)", message: String(cString: strerror(errno)))
                }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    try walk(rel)
                } else if (info.st_mode & S_IFMT) == S_IFREG {
                    let ext = (name as NSString).pathExtension
                    let phase: Phase = rel == "master.m3u8" ? .master
                        : ext.lowercased() == "m3u8" || rel == "manifest.mpd" ? .mediaPlaylist : .media
                    objects.append(S3Object(
                        key: keyBase.isEmpty ? rel : "\(keyBase)/\(rel)", path: "\(root)/\(rel)",
                        size: Int64(info.st_size), phase: phase,
                        contentType: contentType(forExtension: ext), cacheControl: cacheControl(forExtension: ext)))
                }
            }
        }
        try walk("")
        return objects.sorted { $0.phase == $1.phase ? $0.key < $1.key : $0.phase < $1.phase }
    }
}
