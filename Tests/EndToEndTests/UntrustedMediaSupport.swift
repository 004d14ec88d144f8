import Foundation
import Testing

/// Text files named like videos that point libav at another file: the shapes of playlists and manifests an
/// uploader can write. Each names `target`, a real clip elsewhere.
enum Disguise: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case hlsAbsolute, hlsRelative, hlsFileURL, hlsLive, dash, concat

    var testDescription: String { rawValue }

    /// The file name it is dropped as.
    var fileName: String { "\(rawValue).mp4" }

    /// What the refusal names.
    var kind: String {
        switch self {
        case .hlsAbsolute, .hlsRelative, .hlsFileURL, .hlsLive: "hls playlist"
        case .dash: "dash manifest"
        case .concat: "concat script"
        }
    }

    /// The line `probe`, `transcode` and the daemon give.
    var refusal: String { "\(fileName): not a supported media file (\(kind))" }

    /// The file's text; `relative` is `target` relative to the folder the disguise is in.
    func text(target: URL, relative: String) -> String {
        switch self {
        case .hlsAbsolute: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n\(target.path)\n#EXT-X-ENDLIST\n"
        case .hlsRelative: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n\(relative)\n#EXT-X-ENDLIST\n"
        case .hlsFileURL: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nfile:\(target.path)\n#EXT-X-ENDLIST\n"
        // Live: no EXT-X-ENDLIST and a long target duration (libav waits for the next reload).
        case .hlsLive: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:100000\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n\(target.path)\n"
        case .dash:
            """
            <?xml version="1.0" encoding="utf-8"?>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" \
            mediaPresentationDuration="PT2S" minBufferTime="PT2S">
              <Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="500000">
                <BaseURL>file:\(target.path)</BaseURL>
              </Representation></AdaptationSet></Period>
            </MPD>

            """
        case .concat: "ffconcat version 1.0\nfile '\(target.path)'\n"
        }
    }

    /// Writes the disguise into `dir`.
    func write(in dir: URL, target: URL, relative: String) throws -> URL {
        let url = dir.appendingPathComponent(fileName)
        try text(target: target, relative: relative).write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

/// The access time of `url` (nanoseconds). Set it back with ``ageAccessTime(_:)``: on a `relatime` mount (the
/// default) any read then moves it, so an unchanged access time means nothing read the file.
func accessTime(_ url: URL) -> Int64 {
    var st = stat()
    guard stat(url.path, &st) == 0 else { return -1 }
    return Int64(st.st_atim.tv_sec) * 1_000_000_000 + Int64(st.st_atim.tv_nsec)
}

/// Sets `url`'s access time to 2001, before its modification time, so the next read updates it.
func ageAccessTime(_ url: URL) throws {
    var times = [timespec(tv_sec: 978_307_200, tv_nsec: 0), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)]  // UTIME_OMIT: mtime unchanged
    guard utimensat(AT_FDCWD, url.path, &times, 0) == 0 else { throw POSIXError(.EIO) }
}

/// A file nothing may read: its access time is aged, and the check proves the detector works by reading it last.
struct Untouchable {
    let url: URL
    let before: Int64

    init(_ url: URL) throws {
        try ageAccessTime(url)
        self.url = url
        before = accessTime(url)
    }

    /// Records an issue if the file was read; then reads it to show the access time would have moved.
    func expectUnread(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(accessTime(url) == before, "\(what): \(url.lastPathComponent) was read", sourceLocation: sourceLocation)
        _ = try? Data(contentsOf: url)
        #expect(accessTime(url) != before, "the access-time check works on this filesystem", sourceLocation: sourceLocation)
    }
}
