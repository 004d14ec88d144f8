import Foundation

/// Writes the playlists (our own, from what the muxer cut) and `manifest.json` into a package directory.
enum PackageWriter {
    /// Rewrites each rendition's `index.m3u8` (video, and audio renditions), writes each video rendition's
    /// `iframes.m3u8`, each subtitle rendition (``SubtitleRenditionWriter``, cut with the first video rendition's
    /// segments) and `master.m3u8`, and returns the renditions measured. An audio rendition that got no segment
    /// (its audio could not be converted) is left out.
    /// - Parameter subtitles: each subtitle rendition and its cues, fitted to the package.
    static func write(directory: URL, rungs: [PlannedRung], result: SessionResult, options: TranscodeOptions,
                      frameRate: Double, subtitles: [(track: PlannedSubtitleTrack, cues: [SubtitleCue])] = [],
                      file: String) throws -> (video: [PackageManifest.Rendition], audio: [PackageManifest.AudioRendition],
                                               subtitles: [PackageManifest.SubtitleRendition]) {
        let version = options.packagedSegmentFormat == .fmp4 ? 7 : 3
        var renditions: [PackageManifest.Rendition] = []
        var variants: [MasterPlaylist.Variant] = []
        var audio: [PackageManifest.AudioRendition] = []
        var subs: [PackageManifest.SubtitleRendition] = []
        var cut: (list: MediaPlaylist, directory: URL)?  // the first video rendition's segments
        do {
            for track in result.audioTracks {
                let dir = directory.appendingPathComponent(track.folder)
                let url = dir.appendingPathComponent("index.m3u8")
                var list = try MediaPlaylist.read(from: url)
                list.extendLast(toTotal: result.outputSeconds)
                try list.foldShortTail(in: dir)
                guard !list.segments.isEmpty else {
                    try? FileManager.default.removeItem(at: dir)
                    continue
                }
                try list.render(version: version).write(to: url, atomically: true, encoding: .utf8)
                audio.append(.init(name: track.folder, language: track.language, title: track.name, isDefault: track.isDefault,
                                   channels: track.channels, codecs: "mp4a.40.2", sourceStreamIndex: track.streamIndex,
                                   playlist: "\(track.folder)/index.m3u8", segments: list.segments.count, bytes: list.bytes,
                                   peakBandwidth: list.peakBitrate, averageBandwidth: list.averageBitrate))
            }
            if !audio.isEmpty, !audio.contains(where: \.isDefault) { audio[0].isDefault = true }
            let hasAudio = result.audioTracks.isEmpty ? result.hasAudio : !audio.isEmpty
            // A variant's BANDWIDTH covers its video and the most demanding audio rendition it may play with.
            let audioPeak = audio.map(\.peakBandwidth).max() ?? 0, audioAverage = audio.map(\.averageBandwidth).max() ?? 0
            for (i, rung) in rungs.enumerated() {
                let url = directory.appendingPathComponent(rung.name).appendingPathComponent("index.m3u8")
                var list = try MediaPlaylist.read(from: url)
                list.extendLast(toTotal: result.outputSeconds)
                try list.foldShortTail(in: url.deletingLastPathComponent())
                guard !list.segments.isEmpty else {
                    throw PipelineError(.media, file: file, "the \(rung.name) rendition has no segments")
                }
                try list.render(version: version).write(to: url, atomically: true, encoding: .utf8)
                if cut == nil { cut = (list, url.deletingLastPathComponent()) }
                let iFrames = try IFramePlaylist(list: list, directory: url.deletingLastPathComponent(), version: version,
                                                 file: file)
                let iFramePath = "\(rung.name)/iframes.m3u8"
                try iFrames.render().write(to: directory.appendingPathComponent(iFramePath), atomically: true, encoding: .utf8)
                let codecs = result.videoCodecs[i] + (hasAudio ? ",mp4a.40.2" : "")
                let playlist = "\(rung.name)/index.m3u8"
                variants.append(.init(uri: playlist, peakBitrate: list.peakBitrate + audioPeak,
                                      averageBitrate: list.averageBitrate + audioAverage,
                                      codecs: codecs, width: rung.width, height: rung.height, frameRate: frameRate,
                                      videoRange: rung.videoRange, iFrameURI: iFramePath, iFrameBitrate: iFrames.peakBitrate,
                                      videoCodec: result.videoCodecs[i]))
                renditions.append(.init(name: rung.name, width: rung.width, height: rung.height, bitrate: rung.videoBitrate,
                                        peakBandwidth: list.peakBitrate, averageBandwidth: list.averageBitrate,
                                        bytes: list.bytes, playlist: playlist, segments: list.segments.count, codecs: codecs,
                                        videoRange: rung.videoRange, iframePlaylist: iFramePath,
                                        iframeBandwidth: iFrames.peakBitrate))
            }
            let media = audio.map {
                MasterPlaylist.Audio(language: $0.language, name: $0.title, isDefault: $0.isDefault, channels: $0.channels,
                                     uri: $0.playlist)
            }
            if let cut, !subtitles.isEmpty {
                let map = try options.packagedSegmentFormat == .ts ? firstVideoPTS(cut.list, in: cut.directory, file: file) : nil
                for (track, cues) in subtitles {
                    subs.append(try SubtitleRenditionWriter.write(
                        track, cues: cues, segmentDurations: cut.list.segments.map(\.duration), timestampMap: map,
                        version: version, directory: directory, file: file))
                }
            }
            let captions = subs.map { MasterPlaylist.Subtitles(language: $0.language, name: $0.title, isDefault: $0.isDefault, uri: $0.playlist) }
            let master = MasterPlaylist(version: version, variants: variants, audio: media, subtitles: captions).render()
            try master.write(to: directory.appendingPathComponent("master.m3u8"), atomically: true, encoding: .utf8)
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(.output, file: file, "cannot write the playlists: \(error.localizedDescription)")
        }
        return (renditions, audio, subs)
    }

    /// The presentation time (90 kHz) the `mpegts` muxer gave the video's first frame (it offsets every timestamp):
    /// the first keyframe of the first segment, which opens with an IDR.
    private static func firstVideoPTS(_ list: MediaPlaylist, in directory: URL, file: String) throws -> Int64 {
        guard let first = list.segments.first else { return 0 }
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(first.uri)))
        guard let pts = try TransportStreamKeyframes(bytes: bytes, file: file).keyframes.first?.pts else {
            throw PipelineError(.media, file: file, "the first video segment has no keyframe to line the subtitles up with")
        }
        return pts
    }

    static func writeManifest(_ manifest: PackageManifest, directory: URL, file: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(manifest).write(to: directory.appendingPathComponent("manifest.json"))
        } catch {
            throw PipelineError(.output, file: file, "cannot write manifest.json: \(error.localizedDescription)")
        }
    }
}
