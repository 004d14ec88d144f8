import Foundation

/// Writes the playlists (our own, from what the muxer cut) and `manifest.json` into a package directory.
enum PackageWriter {
    /// Rewrites each rendition's `index.m3u8`, writes its `iframes.m3u8` and `master.m3u8`, and returns the renditions
    /// measured.
    static func write(directory: URL, rungs: [PlannedRung], result: SessionResult, options: TranscodeOptions,
                      frameRate: Double, file: String) throws -> [PackageManifest.Rendition] {
        let version = options.packagedSegmentFormat == .fmp4 ? 7 : 3
        var renditions: [PackageManifest.Rendition] = []
        var variants: [MasterPlaylist.Variant] = []
        do {
            for (i, rung) in rungs.enumerated() {
                let url = directory.appendingPathComponent(rung.name).appendingPathComponent("index.m3u8")
                var list = try MediaPlaylist.read(from: url)
                list.extendLast(toTotal: result.outputSeconds)
                try list.foldShortTail(in: url.deletingLastPathComponent())
                guard !list.segments.isEmpty else {
                    throw PipelineError(.media, file: file, "the \(rung.name) rendition has no segments")
                }
                try list.render(version: version).write(to: url, atomically: true, encoding: .utf8)
                let iFrames = try IFramePlaylist(list: list, directory: url.deletingLastPathComponent(), version: version,
                                                 file: file)
                let iFramePath = "\(rung.name)/iframes.m3u8"
                try iFrames.render().write(to: directory.appendingPathComponent(iFramePath), atomically: true, encoding: .utf8)
                let codecs = result.videoCodecs[i] + (result.hasAudio ? ",mp4a.40.2" : "")
                let playlist = "\(rung.name)/index.m3u8"
                variants.append(.init(uri: playlist, peakBitrate: list.peakBitrate, averageBitrate: list.averageBitrate,
                                      codecs: codecs, width: rung.width, height: rung.height, frameRate: frameRate,
                                      videoRange: rung.videoRange, iFrameURI: iFramePath, iFrameBitrate: iFrames.peakBitrate,
                                      videoCodec: result.videoCodecs[i]))
                renditions.append(.init(name: rung.name, width: rung.width, height: rung.height, bitrate: rung.videoBitrate,
                                        peakBandwidth: list.peakBitrate, averageBandwidth: list.averageBitrate,
                                        bytes: list.bytes, playlist: playlist, segments: list.segments.count, codecs: codecs,
                                        videoRange: rung.videoRange, iframePlaylist: iFramePath,
                                        iframeBandwidth: iFrames.peakBitrate))
            }
            let master = MasterPlaylist(version: version, variants: variants).render()
            try master.write(to: directory.appendingPathComponent("master.m3u8"), atomically: true, encoding: .utf8)
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(.output, file: file, "cannot write the playlists: \(error.localizedDescription)")
        }
        return renditions
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
