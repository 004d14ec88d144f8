import Foundation

/// The files one pass writes: an `hls` muxer per rung (video stream 0, audio stream 1) in `<work>/<rung>/`, and the
/// meter that counts every byte written, thumbnails included, against the output bound. With audio renditions
/// (two or more audio tracks) the rungs are video only and each track has an audio-only muxer in
/// `<work>/<track folder>/`, cut with the same `hls_time`.
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class SessionOutputs {
    /// One per rung, in the plan's order.
    let muxers: [OutputMuxer]
    /// One per audio rendition, in the order of ``init(plan:audioTracks:interrupter:)``'s tracks; empty when the
    /// audio is muxed into the rungs.
    let audioMuxers: [OutputMuxer]
    private let plan: SessionPlan
    private let meter: OutputMeter
    /// Most bytes per second of output the renditions may write (maxrates and audio, x 2); set by ``writeHeaders``.
    private var byteRate = 0.0

    /// Makes each rung's (and audio track's) folder and allocates its muxer (streams are added by
    /// ``writeHeaders(video:audio:)``).
    /// - Parameter audioTracks: the audio renditions whose decoder opened; empty for muxed audio (or none).
    init(plan: SessionPlan, audioTracks: [PlannedAudioTrack], interrupter: Interrupter) throws(MediaError) {
        self.plan = plan
        let meter = OutputMeter()
        self.meter = meter
        func muxer(_ folder: String) throws(MediaError) -> OutputMuxer {
            let dir = plan.workDirectory.appendingPathComponent(folder)
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            return try OutputMuxer(format: "hls", path: dir.appendingPathComponent("index.m3u8").path,
                                   interrupter: interrupter, meter: meter)
        }
        var muxers: [OutputMuxer] = []
        for rung in plan.rungs { muxers.append(try muxer(rung.name)) }
        var audioMuxers: [OutputMuxer] = []
        for track in audioTracks { audioMuxers.append(try muxer(track.folder)) }
        self.muxers = muxers
        self.audioMuxers = audioMuxers
        folders = plan.rungs.map(\.name) + audioTracks.map(\.folder)
    }

    /// The folder of each muxer: the rungs', then the audio tracks'.
    private let folders: [String]

    /// True when the encoders must put parameter sets in extradata (the muxers ask for a global header).
    var wantsGlobalHeader: Bool { muxers.first?.wantsGlobalHeader ?? true }

    /// Adds each rung's video stream (and the shared audio encoder's stream, or each track's to its own muxer) and
    /// writes the playlists' headers.
    /// - Parameters:
    ///   - video: one encoder per rung, in the plan's order.
    ///   - audio: the AAC encoder every rung carries (one, or none for a package without audio), or one per audio
    ///     rendition.
    func writeHeaders(video: [CodecContext], audio: [CodecContext]) throws(MediaError) {
        let audioBits = Double(plan.options.audioBitrate * audio.count * (audioMuxers.isEmpty ? plan.rungs.count : 1))
        byteRate = (plan.rungs.map { Double($0.maxrate) }.reduce(0, +) + audioBits) / 8 * 2
        let format = plan.options.packagedSegmentFormat
        let ext = format == .fmp4 ? "m4s" : "ts"
        for (i, muxer) in (muxers + audioMuxers).enumerated() {
            if i < muxers.count {
                try muxer.addStream(from: video[i])
                if audioMuxers.isEmpty, let audio = audio.first { try muxer.addStream(from: audio) }
            } else {
                try muxer.addStream(from: audio[i - muxers.count])
            }
            let dir = plan.workDirectory.appendingPathComponent(folders[i])
            try muxer.writeHeader(options: [
                ("hls_time", String(plan.options.segmentSeconds)),
                ("hls_list_size", "0"),
                ("hls_playlist_type", "vod"),
                ("hls_segment_type", format == .fmp4 ? "fmp4" : "mpegts"),
                ("hls_flags", "independent_segments"),
                ("hls_segment_filename", dir.appendingPathComponent("seg_%05d.\(ext)").path),
                ("hls_fmp4_init_filename", "init.mp4"),
            ])
        }
    }

    /// Writes a packet of rung `rung`'s video (the packet is consumed).
    func writeVideo(_ packet: Packet, rung: Int) throws(MediaError) {
        try muxers[rung].write(packet, stream: 0)
    }

    /// Writes one packet of audio track `track` into its own muxer, or (muxed audio) into every rung's muxer: a
    /// reference per muxer, the packet itself into the last.
    func writeAudio(_ packet: Packet, track: Int) throws(MediaError) {
        if !audioMuxers.isEmpty { return try audioMuxers[track].write(packet, stream: 0) }
        guard let last = muxers.last else { return }
        for muxer in muxers.dropLast() { try muxer.write(try packet.reference(), stream: 1) }
        try last.write(packet, stream: 1)
    }

    /// Counts a file the engine wrote itself (a thumbnail) against the bound.
    func count(fileAt url: URL) {
        meter.add(((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0)
    }

    /// Finishes every playlist's last segment.
    func writeTrailers() throws(MediaError) {
        for muxer in muxers + audioMuxers { try muxer.writeTrailer() }
    }

    /// Fails the pass once the files written pass (maxrates + audio) x 2 x output seconds + 16 MiB, or the output
    /// passes `max_duration_seconds`.
    func checkBound(seconds: Double) throws(MediaError) {
        let limits = plan.options.limits
        let bound = Int64(byteRate * max(0, seconds)) + limits.outputSlackBytes
        let written = meter.bytes
        if written > bound {
            throw MediaError(stage: "bound", call: "av_interleaved_write_frame", errno: EFBIG, message: String(
                format: "the output passed its bound: %lld bytes written for %.1f s of video (at most %lld: twice the renditions' maxrates and audio, plus 16 MiB)",
                written, seconds, bound))
        }
        if seconds > limits.maxDurationSeconds {
            throw MediaError(stage: "bound", call: "transcode", errno: EFBIG, message: String(
                format: "the output passed max_duration_seconds (%.0f)", limits.maxDurationSeconds))
        }
    }
}
