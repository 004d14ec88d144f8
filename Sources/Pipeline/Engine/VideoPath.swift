import Logging

/// The video of one pass: decode -> one filter graph (deinterlace, rotate, output rate, square pixels, then a split
/// per rung: tone mapped to BT.709 for the H.264 rungs, untouched 10-bit for the HEVC rungs that keep the source's
/// HDR) -> an encoder per rung -> that rung's muxer; the graph's `[thumb]` sink feeds the ``ThumbnailTap``.
///
/// Timestamps are made to start at 0 (the container's start removed) and jumps longer than `max_gap_seconds` are
/// closed (``TimelineMender``). Every segment starts with an IDR.
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class VideoPath {
    private let plan: SessionPlan
    private let streamIndex: Int
    /// The stream's time base (the decoded frames' and the graph source's).
    let timeBase: Rational
    private let input: InputFile
    private let decoder: CodecContext
    /// One per rung, in the plan's order.
    let encoders: [CodecContext]
    /// Per rung, the surfaces its encoder takes (VA-API); nil for an encoder that takes software frames.
    private let uploads: [HardwareFrames?]
    private let outputs: SessionOutputs
    private let thumbnails: ThumbnailTap
    private let interrupter: Interrupter
    private let logger: Logger
    private let onProgress: (Double) -> Void
    private let frameRate: Rational
    /// The container's start time, `AV_TIME_BASE` units: subtracted from every timestamp.
    private let origin: Int64
    private let frame: Frame
    private let filtered: Frame
    private let uploaded: Frame
    private let packet: Packet
    private var graph: FilterGraph?
    /// The source's colour tags, gaps filled; set from the first decoded frame.
    private var colour: ColourPolicy?
    private var mender: TimelineMender
    private var lastForcedSegment: [Int]
    /// Frames encoded into the first rung (every rung gets the same frames).
    private(set) var framesEncoded = 0
    private(set) var decodeErrors = 0
    /// End of the last frame fed to the graph (pts + duration, stream time base).
    private(set) var end: Int64 = 0
    /// The video reached `stopAfterSeconds`: read no further.
    private(set) var reachedStop = false

    /// Opens an encoder per rung (on the hardware device the plan's encoder needs, if any).
    /// - Parameters:
    ///   - decoder: the opened decoder of the plan's video stream.
    ///   - onProgress: called with the output media time (seconds) as frames are encoded.
    init(plan: SessionPlan, input: InputFile, decoder: CodecContext, origin: Int64, outputs: SessionOutputs,
         thumbnails: ThumbnailTap, interrupter: Interrupter, logger: Logger,
         onProgress: @escaping (Double) -> Void) throws(MediaError) {
        self.plan = plan
        streamIndex = plan.info.video.streamIndex
        timeBase = input.timeBase(of: streamIndex)
        self.input = input
        self.decoder = decoder
        self.origin = origin
        self.outputs = outputs
        self.thumbnails = thumbnails
        self.interrupter = interrupter
        self.logger = logger
        self.onProgress = onProgress
        frameRate = Rational(Int32(plan.info.video.frameRateRatio.num), Int32(plan.info.video.frameRateRatio.den))
        frame = try Frame()
        filtered = try Frame()
        uploaded = try Frame()
        packet = try Packet()
        mender = TimelineMender(maxGap: ticks(plan.options.limits.maxGapSeconds, in: timeBase))
        lastForcedSegment = Array(repeating: -1, count: plan.rungs.count)

        let global = outputs.wantsGlobalHeader
        let gop = max(1, Int((plan.options.segmentSeconds * plan.info.video.frameRate).rounded(.up)))
        let device = try Encoders.deviceType(for: plan.encoder).map { type throws(MediaError) in try HardwareDevice(type) }
        // The HEVC rungs carry the source's colour as its stream tags it, the colour the ladder was planned from.
        let sourceColour = ColourPolicy(stream: input.stream(streamIndex))
        var uploads: [HardwareFrames?] = []
        var encoders: [CodecContext] = []
        for rung in plan.rungs {
            let frames = try (rung.keepsHDR ? nil : device).map { device throws(MediaError) in
                try HardwareFrames(device: device, width: rung.width, height: rung.height,
                                   softwareFormat: Encoders.softwareFormat(for: plan.encoder))
            }
            uploads.append(frames)
            let settings = VideoEncoderSettings(
                encoder: plan.encoder, width: rung.width, height: rung.height, frameRate: frameRate,
                bitrate: rung.videoBitrate, maxrate: rung.maxrate, bufsize: rung.bufsize, preset: plan.options.preset,
                gop: gop, globalHeader: global, hardwareFrames: frames)
            encoders.append(try rung.keepsHDR ? Encoders.hevcHDR(settings, colour: sourceColour) : Encoders.video(settings))
        }
        self.uploads = uploads
        self.encoders = encoders
    }

    /// True once a frame reached the graph (the graph is made from the first decoded frame).
    var started: Bool { graph != nil }

    /// Timestamp jumps closed so far.
    var jumps: Int { mender.jumps }

    /// Source time removed by closing timestamp jumps, in seconds.
    var closedGapSeconds: Double { Double(mender.closed) * timeBase.value }

    /// The codecs string of each rung (`avc1...` or `hvc1...`), for the master playlist.
    var codecs: [String] {
        zip(plan.rungs, encoders).map { $0.keepsHDR ? Encoders.hvc1Codecs($1) : Encoders.avc1Codecs($1) }
    }

    /// Decodes `packet` (nil: flush the decoder) and pushes every frame through the graph to the encoders.
    /// Damaged packets are counted and skipped, as ffmpeg does; a failed allocation fails the job.
    func decode(_ packet: Packet?) throws(MediaError) {
        let sent = decoder.send(packet)
        try Self.failOnOutOfMemory(sent, "avcodec_send_packet")
        if sent < 0 && sent != AVStatus.eagain && sent != AVStatus.eof {
            decodeErrors += 1  // a damaged packet: skip it, as ffmpeg does
            if packet != nil { return }
        }
        var errors = 0
        while true {
            let r: Received
            do { r = try decoder.receive(frame) } catch {
                try Self.failOnOutOfMemory(error.code, error.call)
                decodeErrors += 1; errors += 1
                if errors > 1000 { throw error }
                continue
            }
            guard r == .item else { return }
            defer { frame.unref() }
            interrupter.progressed()
            let ts = frame.bestEffortTimestamp
            guard ts != AVStatus.noPTS else { continue }
            var duration = frame.packetDuration
            if duration <= 0 { duration = Rational.rescale(1, from: frameRate.inverse, to: timeBase) }
            let pts = ts - Rational.rescale(origin, from: InputFile.containerTimeBase, to: timeBase)
            frame.pts = mender.mend(pts, duration: duration)
            end = max(end, frame.pts + duration)
            let colour = colour ?? ColourPolicy(
                frame: frame, dolbyVisionCompatibility: input.stream(streamIndex).dolbyVision?.compatibility)
            self.colour = colour
            colour.tag(frame)
            let graph: FilterGraph
            if let existing = self.graph { graph = existing } else {
                graph = try makeGraph(first: frame, colour: colour)
                self.graph = graph
            }
            try graph.push(frame)
            try drain()
            try interrupter.throwIfStopped()
        }
    }

    /// Ends the graph at `end` (stream time base; past the last frame holds the last picture) and encodes what
    /// it still holds.
    func close(at end: Int64) throws(MediaError) {
        guard let graph else { return }
        try graph.close(at: end)
        try drain()
    }

    /// Flushes every rung's encoder into its muxer.
    func flushEncoders() throws(MediaError) {
        for i in encoders.indices { try encode(nil, rung: i) }
    }

    /// A failed allocation fails the job (with `out of memory`), not just the packet.
    private static func failOnOutOfMemory(_ code: Int32, _ call: String) throws(MediaError) {
        if MediaError.isOutOfMemory(code) { throw MediaError(stage: "decode", call: call, code: code) }
    }

    private func makeGraph(first f: Frame, colour: ColourPolicy) throws(MediaError) -> FilterGraph {
        let v = plan.info.video
        let tb = timeBase
        var sar = f.sampleAspectRatio
        if sar.num <= 0 || sar.den <= 0 { sar = Rational(Int32(v.sampleAspect.num), Int32(v.sampleAspect.den)) }
        let fmt = f.pixelFormatName ?? "yuv420p"
        let args = "video_size=\(f.width)x\(f.height):pix_fmt=\(fmt):time_base=\(tb.num)/\(tb.den):pixel_aspect=\(sar.num)/\(sar.den)"
        var chain: [String] = []
        if v.interlaced || f.isInterlaced { chain.append("bwdif=mode=send_frame:parity=auto:deint=all") }
        switch v.rotation {
        case 90: chain.append("transpose=clock")
        case 180: chain.append("hflip,vflip")
        case 270: chain.append("transpose=cclock")
        default: break
        }
        chain.append("fps=fps=\(frameRate.num)/\(frameRate.den):start_time=0")
        if sar.num != sar.den {  // anamorphic: resample to square pixels once, at display size
            var w = Int((Double(f.width) * Double(sar.num) / Double(sar.den)).rounded()), h = f.height
            if v.rotation == 90 || v.rotation == 270 { (w, h) = (f.height, Int((Double(f.width) * Double(sar.num) / Double(sar.den)).rounded())) }
            chain.append("scale=\(w + w % 2):\(h + h % 2)")
        }
        chain.append("setsar=1")
        let sdr = plan.rungs.indices.filter { !plan.rungs[$0].keepsHDR }, hdr = plan.rungs.indices.filter { plan.rungs[$0].keepsHDR }
        let encoderFormat = Encoders.softwareFormat(for: plan.encoder)
        let convert = encoderFormat == .yuv420p ? "" : ",format=" + (encoderFormat.name ?? "")
        var desc = "[in]" + chain.joined(separator: ",") + ","
        if !hdr.isEmpty {  // the HEVC rungs take the pictures before tone mapping, scaled in 10 bits, colour untouched
            let hevcFormat = Encoders.hevcFormat.name ?? ""
            desc += "split=2[sdr][hdr];[hdr]split=\(hdr.count)" + hdr.map { "[s\($0)]" }.joined() + ";"
            for i in hdr {
                desc += "[s\(i)]scale=\(plan.rungs[i].width):\(plan.rungs[i].height),setsar=1,format=\(hevcFormat)[v\(i)];"
            }
            desc += "[sdr]"
        }
        desc += "\(colour.toBT709),split=\(sdr.count + 1)" + sdr.map { "[s\($0)]" }.joined() + "[sthumb];"
        for i in sdr {
            desc += "[s\(i)]scale=\(plan.rungs[i].width):\(plan.rungs[i].height),setsar=1\(convert)[v\(i)];"
        }
        desc += "[sthumb]null[thumb]"
        logger.debug("video filter graph", metadata: ["wf.graph": "\(desc)", "wf.buffer": "\(args)"])
        return try FilterGraph(audio: false, sourceArgs: args, description: desc,
                               sinkLabels: plan.rungs.indices.map { "v\($0)" } + ["thumb"])
    }

    /// Encodes what every rung's sink holds (up to `stopAfterSeconds`), then hands the thumbnail sink's pictures
    /// to the tap.
    private func drain() throws(MediaError) {
        guard let graph else { return }
        for i in plan.rungs.indices {
            while try graph.pull(i, into: filtered) == .item {
                let tb = graph.timeBase(of: i)
                let seconds = Double(filtered.pts) * Double(tb.num) / Double(tb.den)
                if let stop = plan.options.stopAt, seconds >= stop - 1e-6 {  // past the first N seconds: not encoded
                    reachedStop = true
                    filtered.unref()
                    continue
                }
                let segment = Int((seconds / plan.options.segmentSeconds + 1e-9).rounded(.down))
                filtered.forceKeyFrame(segment > lastForcedSegment[i])  // IDR at every segment boundary
                lastForcedSegment[i] = max(lastForcedSegment[i], segment)
                filtered.pts = Rational.rescale(filtered.pts, from: tb, to: encoders[i].timeBase)
                if let upload = uploads[i] {  // VA-API: the encoder reads surfaces on its device
                    try upload.upload(filtered, into: uploaded)
                    try encode(uploaded, rung: i)
                    uploaded.unref()
                } else {
                    try encode(filtered, rung: i)
                }
                filtered.unref()
                if i == 0 {
                    framesEncoded += 1
                    try outputs.checkBound(seconds: seconds)
                    onProgress(seconds)
                }
            }
        }
        let thumb = plan.rungs.count
        while try graph.pull(thumb, into: filtered) == .item {
            let tb = graph.timeBase(of: thumb)
            if plan.options.stopAt.map({ Double(filtered.pts) * tb.value < $0 - 1e-6 }) ?? true {
                try thumbnails.take(filtered, timeBase: tb)
            }
            filtered.unref()
        }
    }

    private func encode(_ frame: Frame?, rung i: Int) throws(MediaError) {
        try encoders[i].send(frame)
        while try encoders[i].receive(packet) == .item {
            try outputs.writeVideo(packet, rung: i)
        }
    }
}

/// `seconds` in ticks of `tb`, capped far below overflow.
func ticks(_ seconds: Double, in tb: Rational) -> Int64 {
    Int64(min(seconds * Double(tb.den) / Double(max(1, tb.num)), Double(Int64.max / 4)))
}
