import CAV
import Foundation
import Logging

/// Everything one decode-once pass needs (built by ``Transcoder`` from the probe and the plan).
struct SessionPlan {
    /// The source, opened once; every pass reads this descriptor.
    var source: SourceFile
    var name: String
    var info: MediaInfo
    var rungs: [PlannedRung]
    var encoder: String
    var options: TranscodeOptions
    var workDirectory: URL
    /// Thumbnail times in output seconds, ascending.
    var thumbnailTimes: [Double]
    var posterTime: Double
}

/// What the pass produced, for the playlists and the manifest.
struct SessionResult {
    /// `avc1.PPCCLL` (H.264) or `hvc1.2.4.L120.90` (HEVC, `hdr = "keep"`) per rung.
    var videoCodecs: [String]
    var hasAudio: Bool
    var videoFrames: Int
    var outputSeconds: Double
    /// End of the last decoded video frame, and the video stream's own declared duration (0 when the container
    /// declares only its total, as Matroska does), in seconds.
    var videoSeconds: Double
    var declaredVideoSeconds: Double
    var decodeErrors: Int
    /// Source time removed by closing timestamp jumps longer than `max_gap_seconds` (video).
    var closedGapSeconds: Double
    var thumbnails: [String]
    var poster: String?
}

/// One source → N renditions in a single pass: demux + decode once, one video filter graph split per rung,
/// N H.264 encoders (and, with `hdr = "keep"`, libx265 Main10 for the rungs that keep the source's HDR, fed before
/// tone mapping), one AAC encode shared by every rung's `hls` muxer (FFmpeg `doc/examples/transcode.c`).
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class TranscodeSession {
    let plan: SessionPlan
    let interrupter: Interrupter
    let logger: Logger
    /// Called with the output media time (seconds) as video frames are encoded.
    let onProgress: (Double) -> Void

    private var input: InputFile!
    private var videoDecoder: CodecContext!
    private var audioDecoder: CodecContext?
    private var audioIndex = -1
    private var videoEncoders: [CodecContext] = []
    /// Per rung, the surfaces its encoder takes (VA-API); nil for an encoder that takes software frames.
    private var uploads: [HardwareFrames?] = []
    private let uploaded: Frame
    private var audioEncoder: CodecContext?
    private var muxers: [OutputMuxer] = []
    private var videoGraph: FilterGraph?
    /// The source's colour tags, gaps filled; set from the first decoded frame.
    private var colour: ColourPolicy?
    private var audioGraph: FilterGraph?
    private var audioGraphFailed = false
    /// Sample format, rate and layout of the audio fed to the graph (for the silence that pads it).
    private var audioFormat: Frame?
    private let frame: Frame
    private let filtered: Frame
    private let packet: Packet
    private let outPacket: Packet
    private let lastThumbFrame: Frame
    private var haveThumbFrame = false
    private var lastForcedSegment: [Int]
    private var framesEncoded = 0
    private var decodeErrors = 0
    private var origin: Int64 = 0
    /// End of the last frame fed to each graph (pts + duration, source time base).
    private var videoEnd: Int64 = 0
    private var audioEnd: Int64 = 0
    private var videoMender = TimelineMender(maxGap: 1)
    private var audioMender = TimelineMender(maxGap: 1)
    private let meter = OutputMeter()
    /// Most bytes per second of output the renditions may write (maxrates and audio, x 2).
    private var byteRate = 0.0
    private var nextThumbnail = 0
    /// The video reached `stopAfterSeconds`: read no further.
    private var reachedStop = false
    private var thumbnails: [String] = []
    private var poster: String?

    init(plan: SessionPlan, interrupter: Interrupter, logger: Logger, onProgress: @escaping (Double) -> Void) throws(MediaError) {
        self.plan = plan
        self.interrupter = interrupter
        self.logger = logger
        self.onProgress = onProgress
        frame = try Frame()
        filtered = try Frame()
        uploaded = try Frame()
        packet = try Packet()
        outPacket = try Packet()
        lastThumbFrame = try Frame()
        lastForcedSegment = Array(repeating: -1, count: plan.rungs.count)
    }

    private var thumbSink: Int { plan.rungs.count }
    private var frameRate: AVRational {
        AVRational(num: Int32(plan.info.video.frameRateRatio.num), den: Int32(plan.info.video.frameRateRatio.den))
    }

    private var limits: Limits { plan.options.limits }

    private func checkCancelled() throws(MediaError) {
        if interrupter.shouldStop { throw MediaError(stage: "cancel", call: "transcode", code: AVStatus.exit, message: "interrupted") }
    }

    /// The streams the plan names must be the ones the probe saw: the source may have been rewritten in place.
    private func checkStreamsMatchProbe() throws(MediaError) {
        func same(_ index: Int, _ type: AVMediaType, _ codec: String) -> Bool {
            guard index < input.streamCount, let par = input.stream(index).pointee.codecpar else { return false }
            return par.pointee.codec_type == type && String(cString: avcodec_get_name(par.pointee.codec_id)) == codec
        }
        let v = plan.info.video
        var matches = same(v.streamIndex, AVMEDIA_TYPE_VIDEO, v.codec)
        if matches, let par = input.stream(v.streamIndex).pointee.codecpar {
            matches = Int(par.pointee.width) == v.width && Int(par.pointee.height) == v.height
        }
        if let a = plan.info.audio, !same(a.streamIndex, AVMEDIA_TYPE_AUDIO, a.codec) { matches = false }
        if !matches {
            throw MediaError(stage: "changed", call: "avformat_find_stream_info", code: AVStatus.invalidData,
                             message: "the file changed while it was being read (its streams differ from the probe); it was not transcoded")
        }
    }

    /// Fails the pass once the files written pass (maxrates + audio) x 2 x output seconds + 16 MiB.
    private func checkOutputBound(seconds: Double) throws(MediaError) {
        let bound = Int64(byteRate * max(0, seconds)) + limits.outputSlackBytes
        let written = meter.bytes
        if written > bound {
            throw MediaError(stage: "bound", call: "av_interleaved_write_frame", code: CAV_AVERROR(EFBIG), message: String(
                format: "the output passed its bound: %lld bytes written for %.1f s of video (at most %lld: twice the renditions' maxrates and audio, plus 16 MiB)",
                written, seconds, bound))
        }
        if seconds > limits.maxDurationSeconds {
            throw MediaError(stage: "bound", call: "transcode", code: CAV_AVERROR(EFBIG), message: String(
                format: "the output passed max_duration_seconds (%.0f)", limits.maxDurationSeconds))
        }
    }

    /// Runs the whole pass; on return every muxer has written its trailer.
    func run() throws(MediaError) -> SessionResult {
        interrupter.setDeadline(seconds: limits.probeSeconds)
        input = try InputFile(source: plan.source, limits: limits, interrupter: interrupter)
        interrupter.setDeadline(seconds: nil)
        try checkStreamsMatchProbe()
        interrupter.watchStalls(seconds: limits.stallSeconds)
        let videoIndex = plan.info.video.streamIndex
        videoDecoder = try CodecContext.decoder(for: input.stream(videoIndex), maxPixels: limits.maxPixels)
        videoMender = TimelineMender(maxGap: ticks(limits.maxGapSeconds, in: input.stream(videoIndex).pointee.time_base))
        if let audio = plan.info.audio {
            do {
                audioDecoder = try CodecContext.decoder(for: input.stream(audio.streamIndex), maxPixels: limits.maxPixels)
                audioMender = TimelineMender(maxGap: ticks(limits.maxGapSeconds, in: input.stream(audio.streamIndex).pointee.time_base))
                audioIndex = audio.streamIndex
            } catch {
                logger.warning("audio stream not decodable; the package will have no audio", metadata: ["wf.error": "\(error)"])
            }
        }
        for i in 0..<input.streamCount where i != videoIndex && i != audioIndex {
            input.stream(i).pointee.discard = AVDISCARD_ALL
        }
        let start = input.raw.pointee.start_time
        origin = start == AVStatus.noPTS ? 0 : start
        try openOutputs()

        while !reachedStop {
            try checkCancelled()
            let more: Bool
            do {
                more = try input.read(into: packet)
            } catch {
                try checkCancelled()
                logger.warning("read error; treating it as the end of the file", metadata: ["wf.error": "\(error)"])
                break
            }
            guard more else { break }
            let index = Int(packet.raw.pointee.stream_index)
            if index == videoIndex {
                try decodeVideo(packet)
            } else if index == audioIndex {
                try decodeAudio(packet)
            }
            packet.unref()
        }
        try checkCancelled()
        try decodeVideo(nil)
        if audioDecoder != nil { try decodeAudio(nil) }
        guard framesEncoded > 0 || videoGraph != nil else {
            throw MediaError(stage: "decode", call: "avcodec_receive_frame", code: AVStatus.invalidData,
                             message: "no video frame could be decoded (\(decodeErrors) damaged packets)")
        }
        // The package runs to the end of the longer stream: the last picture held (audio more than a frame longer),
        // or silence added.
        let videoTimeBase = input.stream(plan.info.video.streamIndex).pointee.time_base
        let audioTimeBase = audioIndex >= 0 ? input.stream(audioIndex).pointee.time_base : videoTimeBase
        let decodedVideoEnd = videoEnd
        let audioEndInVideo = audioGraph == nil ? 0 : av_rescale_q(audioEnd, audioTimeBase, videoTimeBase)
        let oneFrame = av_rescale_q(1, AVRational(num: frameRate.den, den: frameRate.num), videoTimeBase)
        let end = audioEndInVideo > videoEnd + oneFrame ? audioEndInVideo : videoEnd
        if let videoGraph {
            try videoGraph.close(at: end)
            try drainVideo()
        }
        if let audioGraph {
            do {
                try padAudio(to: av_rescale_q(end, videoTimeBase, audioTimeBase), timeBase: audioTimeBase)
            } catch {
                logger.warning("the audio could not be padded to the video's end", metadata: ["wf.error": "\(error)"])
            }
            try audioGraph.close(at: audioEnd)
            try drainAudio()
        }
        for i in videoEncoders.indices { try encodeVideo(nil, rung: i) }
        if audioEncoder != nil { try encodeAudio(nil) }
        for muxer in muxers { try muxer.writeTrailer() }
        try finishThumbnails()
        let rate = Double(frameRate.num) / Double(frameRate.den)
        try checkOutputBound(seconds: Double(framesEncoded) / rate)
        if videoMender.jumps > 0 {
            logger.info("timestamp jumps closed", metadata: [
                "wf.jumps": "\(videoMender.jumps)", "wf.closed.seconds": "\(Double(videoMender.closed) * av_q2d(videoTimeBase))"])
        }
        return SessionResult(
            videoCodecs: zip(plan.rungs, videoEncoders).map { $0.keepsHDR ? Encoders.hvc1Codecs($1) : Encoders.avc1Codecs($1) },
            hasAudio: audioEncoder != nil,
            videoFrames: framesEncoded, outputSeconds: Double(framesEncoded) / rate,
            videoSeconds: Double(decodedVideoEnd) * av_q2d(videoTimeBase),
            declaredVideoSeconds: Self.declaredSeconds(input.stream(plan.info.video.streamIndex)), decodeErrors: decodeErrors,
            closedGapSeconds: Double(videoMender.closed) * av_q2d(videoTimeBase),
            thumbnails: thumbnails, poster: poster)
    }

    private static func declaredSeconds(_ st: UnsafeMutablePointer<AVStream>) -> Double {
        let d = st.pointee.duration
        return d > 0 && d != AVStatus.noPTS ? Double(d) * av_q2d(st.pointee.time_base) : 0
    }

    private func ticks(_ seconds: Double, in tb: AVRational) -> Int64 {
        Int64(min(seconds * Double(tb.den) / Double(max(1, tb.num)), Double(Int64.max / 4)))
    }

    // MARK: outputs

    private func openOutputs() throws(MediaError) {
        let format = plan.options.packagedSegmentFormat
        let ext = format == .fmp4 ? "m4s" : "ts"
        for rung in plan.rungs {
            let dir = plan.workDirectory.appendingPathComponent(rung.name)
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            muxers.append(try OutputMuxer(format: "hls", path: dir.appendingPathComponent("index.m3u8").path,
                                          interrupter: interrupter, meter: meter))
        }
        let global = muxers.first?.wantsGlobalHeader ?? true
        let rate = plan.info.video.frameRate
        let gop = max(1, Int((plan.options.segmentSeconds * rate).rounded(.up)))
        let device = try Encoders.deviceType(for: plan.encoder).map { type throws(MediaError) in try HardwareDevice(type) }
        // The HEVC rungs carry the source's colour as its stream tags it, the colour the ladder was planned from.
        let sourceColour = ProbeReader.colourPolicy(input.stream(plan.info.video.streamIndex))
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
            videoEncoders.append(try rung.keepsHDR ? Encoders.hevcHDR(settings, colour: sourceColour) : Encoders.video(settings))
        }
        if audioDecoder != nil { audioEncoder = try Encoders.aac(bitrate: plan.options.audioBitrate, globalHeader: global) }
        let perRung = plan.rungs.map { Double($0.maxrate + (audioDecoder != nil ? plan.options.audioBitrate : 0)) }
        byteRate = perRung.reduce(0, +) / 8 * 2
        for (i, muxer) in muxers.enumerated() {
            try muxer.addStream(from: videoEncoders[i])
            if let audioEncoder { try muxer.addStream(from: audioEncoder) }
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

    // MARK: video

    private func decodeVideo(_ packet: Packet?) throws(MediaError) {
        let sent = videoDecoder.send(packet)
        try Self.failOnOutOfMemory(sent, "avcodec_send_packet")
        if sent < 0 && sent != AVStatus.eagain && sent != AVStatus.eof {
            decodeErrors += 1  // a damaged packet: skip it, as ffmpeg does
            if packet != nil { return }
        }
        var errors = 0
        while true {
            let r: Received
            do { r = try videoDecoder.receive(frame) } catch {
                try Self.failOnOutOfMemory(error.code, error.call)
                decodeErrors += 1; errors += 1
                if errors > 1000 { throw error }
                continue
            }
            guard r == .item else { return }
            defer { frame.unref() }
            interrupter.progressed()
            let ts = frame.raw.pointee.best_effort_timestamp
            guard ts != AVStatus.noPTS else { continue }
            let tb = input.stream(plan.info.video.streamIndex).pointee.time_base
            var duration = frame.raw.pointee.pkt_duration
            if duration <= 0 { duration = av_rescale_q(1, AVRational(num: frameRate.den, den: frameRate.num), tb) }
            let pts = ts - av_rescale_q(origin, AVRational(num: 1, den: Int32(AV_TIME_BASE)), tb)
            frame.raw.pointee.pts = videoMender.mend(pts, duration: duration)
            videoEnd = max(videoEnd, frame.raw.pointee.pts + duration)
            if colour == nil {
                let f = frame.raw.pointee
                colour = ColourPolicy(primaries: f.color_primaries, transfer: f.color_trc, matrix: f.colorspace,
                                      range: f.color_range, height: Int(f.height), pixelFormat: AVPixelFormat(rawValue: f.format),
                                      dolbyVisionCompatibility: ProbeReader.dolbyVision(input.stream(plan.info.video.streamIndex))?.compatibility)
            }
            colour!.tag(frame.raw)
            if videoGraph == nil { videoGraph = try makeVideoGraph(first: frame) }
            try videoGraph!.push(frame)
            try drainVideo()
            try checkCancelled()
        }
    }

    /// A failed allocation fails the job (with `out of memory`), not just the packet.
    private static func failOnOutOfMemory(_ code: Int32, _ call: String) throws(MediaError) {
        if code == CAV_AVERROR(ENOMEM) { throw MediaError(stage: "decode", call: call, code: code) }
    }

    private func makeVideoGraph(first: Frame) throws(MediaError) -> FilterGraph {
        let f = first.raw.pointee
        let v = plan.info.video
        let tb = input.stream(v.streamIndex).pointee.time_base
        var sar = f.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = AVRational(num: Int32(v.sampleAspect.num), den: Int32(v.sampleAspect.den)) }
        let fmt = av_get_pix_fmt_name(AVPixelFormat(rawValue: f.format)).map { String(cString: $0) } ?? "yuv420p"
        let args = "video_size=\(f.width)x\(f.height):pix_fmt=\(fmt):time_base=\(tb.num)/\(tb.den):pixel_aspect=\(sar.num)/\(sar.den)"
        var chain: [String] = []
        if v.interlaced || f.interlaced_frame != 0 { chain.append("bwdif=mode=send_frame:parity=auto:deint=all") }
        switch v.rotation {
        case 90: chain.append("transpose=clock")
        case 180: chain.append("hflip,vflip")
        case 270: chain.append("transpose=cclock")
        default: break
        }
        chain.append("fps=fps=\(frameRate.num)/\(frameRate.den):start_time=0")
        if sar.num != sar.den {  // anamorphic: resample to square pixels once, at display size
            var w = Int((Double(f.width) * Double(sar.num) / Double(sar.den)).rounded()), h = Int(f.height)
            if v.rotation == 90 || v.rotation == 270 { (w, h) = (Int(f.height), Int((Double(f.width) * Double(sar.num) / Double(sar.den)).rounded())) }
            chain.append("scale=\(w + w % 2):\(h + h % 2)")
        }
        chain.append("setsar=1")
        let sdr = plan.rungs.indices.filter { !plan.rungs[$0].keepsHDR }, hdr = plan.rungs.indices.filter { plan.rungs[$0].keepsHDR }
        let encoderFormat = Encoders.softwareFormat(for: plan.encoder)
        let convert = encoderFormat == AV_PIX_FMT_YUV420P ? "" : ",format=" + String(cString: av_get_pix_fmt_name(encoderFormat))
        var desc = "[in]" + chain.joined(separator: ",") + ","
        if !hdr.isEmpty {  // the HEVC rungs take the pictures before tone mapping, scaled in 10 bits, colour untouched
            let hevcFormat = String(cString: av_get_pix_fmt_name(Encoders.hevcFormat))
            desc += "split=2[sdr][hdr];[hdr]split=\(hdr.count)" + hdr.map { "[s\($0)]" }.joined() + ";"
            for i in hdr {
                desc += "[s\(i)]scale=\(plan.rungs[i].width):\(plan.rungs[i].height),setsar=1,format=\(hevcFormat)[v\(i)];"
            }
            desc += "[sdr]"
        }
        desc += "\(colour!.toBT709),split=\(sdr.count + 1)" + sdr.map { "[s\($0)]" }.joined() + "[sthumb];"
        for i in sdr {
            desc += "[s\(i)]scale=\(plan.rungs[i].width):\(plan.rungs[i].height),setsar=1\(convert)[v\(i)];"
        }
        desc += "[sthumb]null[thumb]"
        logger.debug("video filter graph", metadata: ["wf.graph": "\(desc)", "wf.buffer": "\(args)"])
        return try FilterGraph(audio: false, sourceArgs: args, description: desc,
                               sinkLabels: plan.rungs.indices.map { "v\($0)" } + ["thumb"])
    }

    private func drainVideo() throws(MediaError) {
        guard let graph = videoGraph else { return }
        for i in plan.rungs.indices {
            while try graph.pull(i, into: filtered) == .item {
                let tb = graph.timeBase(of: i)
                let encTb = videoEncoders[i].raw.pointee.time_base
                let seconds = Double(filtered.raw.pointee.pts) * Double(tb.num) / Double(tb.den)
                if let stop = plan.options.stopAt, seconds >= stop - 1e-6 {  // past the first N seconds: not encoded
                    reachedStop = true
                    filtered.unref()
                    continue
                }
                let segment = Int((seconds / plan.options.segmentSeconds + 1e-9).rounded(.down))
                if segment > lastForcedSegment[i] {
                    lastForcedSegment[i] = segment
                    filtered.raw.pointee.pict_type = AV_PICTURE_TYPE_I  // IDR at every segment boundary
                } else {
                    filtered.raw.pointee.pict_type = AV_PICTURE_TYPE_NONE
                }
                filtered.raw.pointee.pts = av_rescale_q(filtered.raw.pointee.pts, tb, encTb)
                if let upload = uploads[i] {  // VA-API: the encoder reads surfaces on its device
                    try upload.upload(filtered, into: uploaded)
                    try encodeVideo(uploaded, rung: i)
                    uploaded.unref()
                } else {
                    try encodeVideo(filtered, rung: i)
                }
                filtered.unref()
                if i == 0 {
                    framesEncoded += 1
                    try checkOutputBound(seconds: seconds)
                    onProgress(seconds)
                }
            }
        }
        while try graph.pull(thumbSink, into: filtered) == .item {
            let tb = graph.timeBase(of: thumbSink)
            if plan.options.stopAt.map({ Double(filtered.raw.pointee.pts) * av_q2d(tb) < $0 - 1e-6 }) ?? true {
                try tapThumbnail(filtered, timeBase: tb)
            }
            filtered.unref()
        }
    }

    private func encodeVideo(_ frame: Frame?, rung i: Int) throws(MediaError) {
        try videoEncoders[i].send(frame)
        while try videoEncoders[i].receive(outPacket) == .item {
            try muxers[i].write(outPacket, stream: 0)
        }
    }

    // MARK: thumbnails

    private func tapThumbnail(_ f: Frame, timeBase tb: AVRational) throws(MediaError) {
        let t = Double(f.raw.pointee.pts) * Double(tb.num) / Double(tb.den)
        av_frame_unref(lastThumbFrame.raw)
        av_frame_ref(lastThumbFrame.raw, f.raw)
        haveThumbFrame = true
        if poster == nil, t >= plan.posterTime { try writePoster() }
        if nextThumbnail < plan.thumbnailTimes.count, t >= plan.thumbnailTimes[nextThumbnail] {
            try writeThumbnail()
        }
    }

    private func writeThumbnail() throws(MediaError) {
        let f = lastThumbFrame.raw.pointee
        let w = 320
        let h = max(2, Int((Double(w) * Double(f.height) / Double(max(1, f.width)) / 2).rounded()) * 2)
        let name = String(format: "thumbnails/thumb_%02d.jpg", nextThumbnail + 1)
        try JPEGWriter.write(lastThumbFrame, width: w, height: h, to: plan.workDirectory.appendingPathComponent(name).path)
        meter.add(fileSize(plan.workDirectory.appendingPathComponent(name)))
        thumbnails.append(name)
        nextThumbnail += 1
    }

    private func writePoster() throws(MediaError) {
        let f = lastThumbFrame.raw.pointee
        try JPEGWriter.write(lastThumbFrame, width: Int(f.width), height: Int(f.height),
                             to: plan.workDirectory.appendingPathComponent("poster.jpg").path)
        meter.add(fileSize(plan.workDirectory.appendingPathComponent("poster.jpg")))
        poster = "poster.jpg"
    }

    /// Targets past the last decoded frame (a short or damaged source) take the last frame.
    private func finishThumbnails() throws(MediaError) {
        guard haveThumbFrame else { return }
        if poster == nil { try writePoster() }
        while nextThumbnail < plan.thumbnailTimes.count { try writeThumbnail() }
    }

    // MARK: audio

    private func decodeAudio(_ packet: Packet?) throws(MediaError) {
        guard let decoder = audioDecoder else { return }
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
            let ts = frame.raw.pointee.best_effort_timestamp
            guard ts != AVStatus.noPTS, !audioGraphFailed else { continue }
            let tb = input.stream(audioIndex).pointee.time_base
            if frame.raw.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
                let n = frame.raw.pointee.ch_layout.nb_channels
                av_channel_layout_uninit(&frame.raw.pointee.ch_layout)
                av_channel_layout_default(&frame.raw.pointee.ch_layout, n)
            }
            let samples = av_rescale_q(Int64(frame.raw.pointee.nb_samples), AVRational(num: 1, den: max(1, frame.raw.pointee.sample_rate)), tb)
            let pts = ts - av_rescale_q(origin, AVRational(num: 1, den: Int32(AV_TIME_BASE)), tb)
            frame.raw.pointee.pts = audioMender.mend(pts, duration: samples)
            audioEnd = max(audioEnd, frame.raw.pointee.pts + samples)
            if audioGraph == nil {
                do {
                    audioGraph = try makeAudioGraph(first: frame, timeBase: tb)
                    audioFormat = try Frame()
                    audioFormat!.raw.pointee.format = frame.raw.pointee.format
                    audioFormat!.raw.pointee.sample_rate = frame.raw.pointee.sample_rate
                    _ = av_channel_layout_copy(&audioFormat!.raw.pointee.ch_layout, &frame.raw.pointee.ch_layout)
                } catch {
                    audioGraphFailed = true
                    logger.warning("audio cannot be converted; audio is dropped", metadata: ["wf.error": "\(error)"])
                    continue
                }
            }
            do {
                try audioGraph!.push(frame)
            } catch {
                decodeErrors += 1  // e.g. a mid-stream format change: drop the frame, keep going
                continue
            }
            try drainAudio()
        }
    }

    /// Feeds silence from the end of the decoded audio to `end` (audio time base): a video longer than its audio.
    private func padAudio(to end: Int64, timeBase tb: AVRational) throws(MediaError) {
        guard let graph = audioGraph, let format = audioFormat, end > audioEnd else { return }
        let sampleTb = AVRational(num: 1, den: format.raw.pointee.sample_rate)
        while audioEnd < end {
            let n = min(1024, av_rescale_q(end - audioEnd, tb, sampleTb))
            guard n > 0 else { break }
            let silence = try Frame()
            silence.raw.pointee.format = format.raw.pointee.format
            silence.raw.pointee.sample_rate = format.raw.pointee.sample_rate
            try MediaError.check(av_channel_layout_copy(&silence.raw.pointee.ch_layout, &format.raw.pointee.ch_layout),
                                 stage: "audio", "av_channel_layout_copy")
            silence.raw.pointee.nb_samples = Int32(n)
            try MediaError.check(av_frame_get_buffer(silence.raw, 0), stage: "audio", "av_frame_get_buffer")
            av_samples_set_silence(silence.raw.pointee.extended_data, 0, Int32(n), silence.raw.pointee.ch_layout.nb_channels,
                                   AVSampleFormat(rawValue: silence.raw.pointee.format))
            silence.raw.pointee.pts = audioEnd
            try graph.push(silence)
            try drainAudio()
            audioEnd += av_rescale_q(n, sampleTb, tb)
        }
    }

    private func makeAudioGraph(first: Frame, timeBase tb: AVRational) throws(MediaError) -> FilterGraph {
        let f = first.raw.pointee
        var buffer = [CChar](repeating: 0, count: 128)
        var layout = f.ch_layout
        av_channel_layout_describe(&layout, &buffer, buffer.count)
        let layoutName = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fmt = av_get_sample_fmt_name(AVSampleFormat(rawValue: f.format)).map { String(cString: $0) } ?? "fltp"
        let args = "time_base=\(tb.num)/\(tb.den):sample_rate=\(f.sample_rate):sample_fmt=\(fmt):channel_layout=\(layoutName)"
        let desc = "[in]aresample=48000:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo[a]"
        let graph = try FilterGraph(audio: true, sourceArgs: args, description: desc, sinkLabels: ["a"])
        if let enc = audioEncoder { graph.setFrameSize(enc.raw.pointee.frame_size, of: 0) }
        return graph
    }

    private func drainAudio() throws(MediaError) {
        guard let graph = audioGraph, audioEncoder != nil else { return }
        while try graph.pull(0, into: filtered) == .item {
            let tb = graph.timeBase(of: 0)
            if let stop = plan.options.stopAt, Double(filtered.raw.pointee.pts) * av_q2d(tb) >= stop - 1e-6 {
                filtered.unref()
                continue
            }
            filtered.raw.pointee.pts = av_rescale_q(filtered.raw.pointee.pts, tb, audioEncoder!.raw.pointee.time_base)
            try encodeAudio(filtered)
            filtered.unref()
        }
    }

    /// One AAC encode; each packet is copied into every rendition's muxer.
    private func encodeAudio(_ frame: Frame?) throws(MediaError) {
        guard let enc = audioEncoder else { return }
        try enc.send(frame)
        while try enc.receive(outPacket) == .item {
            for muxer in muxers.dropLast() {
                let copy = try Packet()
                try MediaError.check(av_packet_ref(copy.raw, outPacket.raw), stage: "mux", "av_packet_ref")
                try muxer.write(copy, stream: 1)
            }
            try muxers.last!.write(outPacket, stream: 1)
        }
    }
}

private func fileSize(_ url: URL) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
}
