import Foundation

/// Writes one subtitle rendition into `<package>/<folder>/`: WebVTT segments cut at the video's segment boundaries
/// (`seg_00001.vtt`...; a cue that spans a boundary is in every segment it overlaps), their `index.m3u8`, and the
/// whole track as one WebVTT file (`subtitles.vtt`, times from 0, for `manifest.mpd`).
///
/// A segment's cue times are on the package's timeline; with `timestampMap` each segment's header maps its time 0 to
/// that MPEG-TS timestamp (`X-TIMESTAMP-MAP=MPEGTS:<90 kHz>,LOCAL:00:00:00.000`, RFC 8216 3.5), the one the video's
/// first frame carries in the TS segments.
enum SubtitleRenditionWriter {
    /// Most bytes of cues one track's segments may hold: cues that each span the whole package cost a copy per segment.
    static let maxSegmentBytes = 32 * 1024 * 1024

    /// - Parameters:
    ///   - cues: the track's cues, fitted to the package (``SubtitleCue/fitted(_:durationMilliseconds:)``).
    ///   - segmentDurations: the video rendition's EXTINFs, seconds.
    /// - Throws: ``PipelineError`` when a file cannot be written, or the track would pass ``maxSegmentBytes``.
    static func write(_ track: PlannedSubtitleTrack, cues: [SubtitleCue], segmentDurations: [Double], timestampMap: Int64?,
                      version: Int, directory: URL, file: String) throws -> PackageManifest.SubtitleRendition {
        var bounds: [Int64] = [0]
        var total = 0.0
        for d in segmentDurations {
            total += d
            bounds.append(Int64((total * 1000).rounded()))
        }
        var perSegment = [[Int]](repeating: [], count: segmentDurations.count)
        var bytes = 0
        for (c, cue) in cues.enumerated() where !perSegment.isEmpty {
            // Segment s covers [bounds[s], bounds[s + 1]); the last one runs on (the cues end with the package).
            let first = Swift.max(0, Swift.min(perSegment.count - 1, bounds.partitionIndex { $0 > cue.start } - 1))
            let last = Swift.max(first, Swift.min(perSegment.count - 1, bounds.partitionIndex { $0 >= cue.end } - 1))
            for s in first...last { perSegment[s].append(c) }
            bytes += (last - first + 1) * (cue.text.utf8.count + 32)  // 32: the timing line and blank line
            if bytes > maxSegmentBytes {
                throw PipelineError(.limit, file: file, "the subtitles of \(track.sidecarName ?? "stream \(track.streamIndex ?? 0)") would pass 32 MiB in their segments (too many long or overlapping cues)")
            }
        }
        let folder = directory.appendingPathComponent(track.folder)
        let header = "WEBVTT\n" + (timestampMap.map { "X-TIMESTAMP-MAP=MPEGTS:\($0),LOCAL:00:00:00.000\n" } ?? "") + "\n"
        var playlist = MediaPlaylist.header(version: version, durations: segmentDurations)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (i, indices) in perSegment.enumerated() {
                let name = String(format: "seg_%05d.vtt", i + 1)
                var text = header
                for c in indices { text += render(cues[c]) }
                try Data(text.utf8).write(to: folder.appendingPathComponent(name))
                playlist += String(format: "#EXTINF:%.6f,\n", segmentDurations[i]) + name + "\n"
            }
            try Data((playlist + "#EXT-X-ENDLIST\n").utf8).write(to: folder.appendingPathComponent("index.m3u8"))
            try Data(cues.reduce(into: "WEBVTT\n\n") { $0 += render($1) }.utf8).write(to: folder.appendingPathComponent("subtitles.vtt"))
        } catch {
            throw PipelineError(.output, file: file, "cannot write the subtitle rendition \(track.folder): \(error.localizedDescription)")
        }
        return .init(name: track.folder, language: track.language, title: track.name, isDefault: track.isDefault,
                     sourceStreamIndex: track.streamIndex, sidecar: track.sidecarName, playlist: "\(track.folder)/index.m3u8",
                     segments: perSegment.count, vtt: "\(track.folder)/subtitles.vtt", cues: cues.count)
    }

    static func render(_ cue: SubtitleCue) -> String {
        "\(timestamp(cue.start)) --> \(timestamp(cue.end))\n\(cue.text)\n\n"
    }

    /// `HH:MM:SS.mmm`.
    static func timestamp(_ ms: Int64) -> String {
        String(format: "%02lld:%02lld:%02lld.%03lld", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
}

extension Array where Element == Int64 {
    /// The first index whose element satisfies `predicate` (false then true along the array), or `count`.
    fileprivate func partitionIndex(where predicate: (Int64) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if predicate(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
