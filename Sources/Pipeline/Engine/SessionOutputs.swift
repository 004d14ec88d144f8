import Foundation

/// The files one pass writes: an `hls` muxer per rung (video stream 0, audio stream 1) in `<work>/<rung>/`, and the
/// meter that counts every byte written, thumbnails included, against the output bound.
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class SessionOutputs {
    /// One per rung, in the plan's order.
    let muxers: [OutputMuxer]
    private let plan: SessionPlan
    private let meter = OutputMeter()
    /// Most bytes per second of output the renditions may write (maxrates and audio, x 2); set by ``writeHeaders``.
    private var byteRate = 0.0

    /// Makes each rung's folder and allocates its muxer (streams are added by ``writeHeaders(video:audio:)``).
    init(plan: SessionPlan, interrupter: Interrupter) throws(MediaError) {
        self.plan = plan
        var muxers: [OutputMuxer] = []
        for rung in plan.rungs {
            let dir = plan.workDirectory.appendingPathComponent(rung.name)
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            muxers.append(try OutputMuxer(format: "hls", path: dir.appendingPathComponent("index.m3u8").path,
                                          interrupter: interrupter, meter: meter))
        }
        self.muxers = muxers
    }

    /// True when the encoders must put parameter sets in extradata (the muxers ask for a global header).
    var wantsGlobalHeader: Bool { muxers.first?.wantsGlobalHeader ?? true }

    /// Adds each rung's video stream (and the shared audio encoder's stream) and writes the playlists' headers.
    /// - Parameters:
    ///   - video: one encoder per rung, in the plan's order.
    ///   - audio: the AAC encoder every rung carries, or nil for a package without audio.
    func writeHeaders(video: [CodecContext], audio: CodecContext?) throws(MediaError) {
        let perRung = plan.rungs.map { Double($0.maxrate + (audio != nil ? plan.options.audioBitrate : 0)) }
        byteRate = perRung.reduce(0, +) / 8 * 2
        let format = plan.options.packagedSegmentFormat
        let ext = format == .fmp4 ? "m4s" : "ts"
        for (i, muxer) in muxers.enumerated() {
            try muxer.addStream(from: video[i])
            if let audio { try muxer.addStream(from: audio) }
            let dir = plan.workDirectory.appendingPathComponent(plan.rungs[i].name)
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

    /// Writes one audio packet into every rung's muxer: a reference per muxer, the packet itself into the last.
    func writeAudio(_ packet: Packet) throws(MediaError) {
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
        for muxer in muxers { try muxer.writeTrailer() }
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
