import Logging

/// One audio track of a pass: decode -> resample to 48 kHz stereo float (`aresample` + `aformat`) -> one AAC
/// encode, each packet written into every rung's muxer (fan-out by reference, not re-encoding), or into the track's
/// own muxer when the package has audio renditions (one ``AudioPath`` per track).
///
/// Audio that cannot be converted is dropped with a warning (the package has no audio from then on); a frame the
/// graph refuses (a mid-stream format change) is counted as a decode error and skipped. A video longer than its
/// audio gets silence to its end (``pad(to:)``).
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class AudioPath {
    private let plan: SessionPlan
    /// The stream's time base (the decoded frames' and the graph source's).
    let timeBase: Rational
    private let decoder: CodecContext
    /// The AAC encoder every rung's muxer carries as stream 1 (with audio renditions, the track's muxer as stream 0).
    let encoder: CodecContext
    private let outputs: SessionOutputs
    /// The track's place among the audio renditions (0 for muxed audio).
    private let track: Int
    private let interrupter: Interrupter
    private let logger: Logger
    /// The container's start time, `AV_TIME_BASE` units: subtracted from every timestamp.
    private let origin: Int64
    private let frame: Frame
    private let filtered: Frame
    private let packet: Packet
    private var graph: FilterGraph?
    private var graphFailed = false
    /// Sample format, rate and layout of the audio fed to the graph (for the silence that pads it).
    private var format: Frame?
    private var mender: TimelineMender
    private(set) var decodeErrors = 0
    /// End of the last frame fed to the graph (pts + duration, stream time base).
    private(set) var end: Int64 = 0

    /// Opens the AAC encoder.
    /// - Parameters:
    ///   - streamIndex: the audio stream `decoder` decodes.
    ///   - globalHeader: the muxers want parameter sets in extradata.
    ///   - track: its place among the audio renditions (0 for muxed audio).
    init(plan: SessionPlan, input: InputFile, streamIndex: Int, decoder: CodecContext, origin: Int64,
         globalHeader: Bool, outputs: SessionOutputs, track: Int = 0, interrupter: Interrupter, logger: Logger) throws(MediaError) {
        self.plan = plan
        self.track = track
        timeBase = input.timeBase(of: streamIndex)
        self.decoder = decoder
        self.origin = origin
        self.outputs = outputs
        self.interrupter = interrupter
        self.logger = logger
        frame = try Frame()
        filtered = try Frame()
        packet = try Packet()
        mender = TimelineMender(maxGap: ticks(plan.options.limits.maxGapSeconds, in: timeBase))
        encoder = try Encoders.aac(bitrate: plan.options.audioBitrate, globalHeader: globalHeader)
    }

    /// True once a frame reached the graph: the package carries audio up to ``end``.
    var started: Bool { graph != nil }

    /// Decodes `packet` (nil: flush the decoder) and encodes what comes out of the graph.
    func decode(_ packet: Packet?) throws(MediaError) {
        let sent = decoder.send(packet)
        if sent < 0 && sent != AVStatus.eagain && sent != AVStatus.eof {
            decodeErrors += 1
            if packet != nil { return }
        }
        var errors = 0
        while true {
            let r: Received
            do { r = try decoder.receive(frame) } catch {
                decodeErrors += 1; errors += 1
                if errors > 1000 { return }
                continue
            }
            guard r == .item else { return }
            defer { frame.unref() }
            interrupter.progressed()
            let ts = frame.bestEffortTimestamp
            guard ts != AVStatus.noPTS, !graphFailed else { continue }
            let tb = timeBase
            frame.defaultUnspecifiedChannelLayout()
            let samples = Rational.rescale(Int64(frame.sampleCount), from: Rational(1, max(1, frame.sampleRate)), to: tb)
            let pts = ts - Rational.rescale(origin, from: InputFile.containerTimeBase, to: tb)
            frame.pts = mender.mend(pts, duration: samples)
            end = max(end, frame.pts + samples)
            let graph: FilterGraph
            if let existing = self.graph { graph = existing } else {
                do {
                    graph = try makeGraph(first: frame)
                    format = try Frame.audioFormat(of: frame)
                    self.graph = graph
                } catch {
                    graphFailed = true
                    logger.warning("audio cannot be converted; audio is dropped", metadata: ["wf.error": "\(error)"])
                    continue
                }
            }
            do {
                try graph.push(frame)
            } catch {
                decodeErrors += 1  // e.g. a mid-stream format change: drop the frame, keep going
                continue
            }
            try drain()
        }
    }

    /// Feeds silence from the end of the decoded audio to `target` (stream time base): a video longer than its audio.
    func pad(to target: Int64) throws(MediaError) {
        guard let graph, let format, target > end else { return }
        let sampleTb = Rational(1, format.sampleRate)
        while end < target {
            let n = min(1024, Rational.rescale(target - end, from: timeBase, to: sampleTb))
            guard n > 0 else { break }
            try graph.push(try Frame.silence(like: format, samples: Int32(n), pts: end))
            try drain()
            end += Rational.rescale(n, from: sampleTb, to: timeBase)
        }
    }

    /// Ends the graph at ``end`` and encodes what it still holds.
    func close() throws(MediaError) {
        guard let graph else { return }
        try graph.close(at: end)
        try drain()
    }

    /// Flushes the encoder into the muxers.
    func flushEncoder() throws(MediaError) { try encode(nil) }

    private func makeGraph(first f: Frame) throws(MediaError) -> FilterGraph {
        let tb = timeBase
        let fmt = f.sampleFormatName ?? "fltp"
        let args = "time_base=\(tb.num)/\(tb.den):sample_rate=\(f.sampleRate):sample_fmt=\(fmt):channel_layout=\(f.channelLayoutName)"
        let desc = "[in]aresample=48000:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo[a]"
        let graph = try FilterGraph(audio: true, sourceArgs: args, description: desc, sinkLabels: ["a"])
        graph.setFrameSize(encoder.frameSize, of: 0)
        return graph
    }

    private func drain() throws(MediaError) {
        guard let graph else { return }
        while try graph.pull(0, into: filtered) == .item {
            let tb = graph.timeBase(of: 0)
            if let stop = plan.options.stopAt, Double(filtered.pts) * tb.value >= stop - 1e-6 {
                filtered.unref()
                continue
            }
            filtered.pts = Rational.rescale(filtered.pts, from: tb, to: encoder.timeBase)
            try encode(filtered)
            filtered.unref()
        }
    }

    /// One AAC encode; each packet goes into every rendition's muxer, or the track's own.
    private func encode(_ frame: Frame?) throws(MediaError) {
        try encoder.send(frame)
        while try encoder.receive(packet) == .item {
            try outputs.writeAudio(packet, track: track)
        }
    }
}
