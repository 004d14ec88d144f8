import Logging

/// One source → N renditions in a single pass: demux + decode once, one video filter graph split per rung,
/// N H.264 encoders (and, with `hdr = "keep"`, libx265 Main10 for the rungs that keep the source's HDR, fed before
/// tone mapping), one AAC encode shared by every rung's `hls` muxer, or one per audio rendition into its own muxer
/// (FFmpeg `doc/examples/transcode.c`).
///
/// The session opens the source and drives the parts, each readable on its own: ``VideoPath`` (decode, filter
/// graph, an encoder per rung), ``AudioPath`` (decode, resample, one AAC encode fanned out to every rung),
/// ``ThumbnailTap`` (thumbnails and poster) and ``SessionOutputs`` (the muxers and the output bound).
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class TranscodeSession {
    let plan: SessionPlan
    let interrupter: Interrupter
    let logger: Logger
    /// Called with the output media time (seconds) as video frames are encoded.
    let onProgress: (Double) -> Void

    init(plan: SessionPlan, interrupter: Interrupter, logger: Logger, onProgress: @escaping (Double) -> Void) {
        self.plan = plan
        self.interrupter = interrupter
        self.logger = logger
        self.onProgress = onProgress
    }

    private var limits: Limits { plan.options.limits }

    /// Runs the whole pass; on return every muxer has written its trailer.
    func run() throws(MediaError) -> SessionResult {
        interrupter.setDeadline(seconds: limits.probeSeconds)
        let input = try InputFile(source: plan.source, limits: limits, interrupter: interrupter)
        interrupter.setDeadline(seconds: nil)
        try checkStreamsMatchProbe(input)
        interrupter.watchStalls(seconds: limits.stallSeconds)
        let videoIndex = plan.info.video.streamIndex
        let videoDecoder = try CodecContext.decoder(for: input.stream(videoIndex), maxPixels: limits.maxPixels)
        var audioDecoders: [(index: Int, decoder: CodecContext, track: PlannedAudioTrack?)] = []
        if plan.audioTracks.isEmpty, let audio = plan.info.audio {
            do {
                audioDecoders = [(audio.streamIndex, try CodecContext.decoder(for: input.stream(audio.streamIndex), maxPixels: limits.maxPixels), nil)]
            } catch {
                logger.warning("audio stream not decodable; the package will have no audio", metadata: ["wf.error": "\(error)"])
            }
        }
        for track in plan.audioTracks {
            do {
                audioDecoders.append((track.streamIndex, try CodecContext.decoder(for: input.stream(track.streamIndex), maxPixels: limits.maxPixels), track))
            } catch {
                logger.warning("audio stream not decodable; its rendition is left out", metadata: [
                    "wf.stream": "\(track.streamIndex)", "wf.error": "\(error)"])
            }
        }
        let tracks = audioDecoders.compactMap(\.track)
        let origin = input.startTime
        var subtitles: [Int: SubtitlePath] = [:]
        for index in plan.subtitleStreams {
            do {
                subtitles[index] = try SubtitlePath(input: input, streamIndex: index, origin: origin, logger: logger)
            } catch {
                logger.warning("subtitle stream not decodable; its rendition is left out", metadata: [
                    "wf.stream": "\(index)", "wf.error": "\(error)"])
            }
        }
        input.discardAll(except: Set([videoIndex] + audioDecoders.map(\.index) + subtitles.keys))

        let outputs = try SessionOutputs(plan: plan, audioTracks: tracks, interrupter: interrupter)
        let thumbnails = try ThumbnailTap(plan: plan, outputs: outputs)
        let video = try VideoPath(plan: plan, input: input, decoder: videoDecoder, origin: origin, outputs: outputs,
                                  thumbnails: thumbnails, interrupter: interrupter, logger: logger, onProgress: onProgress)
        var audios: [AudioPath] = []
        for (i, a) in audioDecoders.enumerated() {
            audios.append(try AudioPath(plan: plan, input: input, streamIndex: a.index, decoder: a.decoder, origin: origin,
                                        globalHeader: outputs.wantsGlobalHeader, outputs: outputs, track: i,
                                        interrupter: interrupter, logger: logger))
        }
        let audioByStream = Dictionary(uniqueKeysWithValues: zip(audioDecoders.map(\.index), audios))
        try outputs.writeHeaders(video: video.encoders, audio: audios.map(\.encoder))

        let packet = try Packet()
        while !video.reachedStop {
            try interrupter.throwIfStopped()
            let more: Bool
            do {
                more = try input.read(into: packet)
            } catch {
                try interrupter.throwIfStopped()
                logger.warning("read error; treating it as the end of the file", metadata: ["wf.error": "\(error)"])
                break
            }
            guard more else { break }
            if packet.streamIndex == videoIndex {
                try video.decode(packet)
            } else if let audio = audioByStream[packet.streamIndex] {
                try audio.decode(packet)
            } else if let subtitle = subtitles[packet.streamIndex] {
                subtitle.decode(packet)
            }
            packet.unref()
        }
        try interrupter.throwIfStopped()
        try video.decode(nil)
        for audio in audios { try audio.decode(nil) }
        let audioDecodeErrors = audios.reduce(0) { $0 + $1.decodeErrors }
        guard video.framesEncoded > 0 || video.started else {
            throw MediaError(stage: "decode", call: "avcodec_receive_frame", code: AVStatus.invalidData,
                             message: "no video frame could be decoded (\(video.decodeErrors + audioDecodeErrors) damaged packets)")
        }
        // The package runs to the end of the longer stream: the last picture held (audio more than a frame longer),
        // or silence added.
        let videoTimeBase = video.timeBase
        let frameRate = Rational(Int32(plan.info.video.frameRateRatio.num), Int32(plan.info.video.frameRateRatio.den))
        let decodedVideoEnd = video.end
        let audioEndInVideo = audios.filter(\.started).map { Rational.rescale($0.end, from: $0.timeBase, to: videoTimeBase) }.max() ?? 0
        let oneFrame = Rational.rescale(1, from: frameRate.inverse, to: videoTimeBase)
        let end = audioEndInVideo > video.end + oneFrame ? audioEndInVideo : video.end
        try video.close(at: end)
        for audio in audios where audio.started {
            do {
                try audio.pad(to: Rational.rescale(end, from: videoTimeBase, to: audio.timeBase))
            } catch {
                logger.warning("the audio could not be padded to the video's end", metadata: ["wf.error": "\(error)"])
            }
            try audio.close()
        }
        try video.flushEncoders()
        for audio in audios { try audio.flushEncoder() }
        try outputs.writeTrailers()
        let rate = Double(frameRate.num) / Double(frameRate.den)
        try thumbnails.finish(duration: Double(video.framesEncoded) / rate)
        try outputs.checkBound(seconds: Double(video.framesEncoded) / rate)
        if video.jumps > 0 {
            logger.info("timestamp jumps closed", metadata: [
                "wf.jumps": "\(video.jumps)", "wf.closed.seconds": "\(video.closedGapSeconds)"])
        }
        return SessionResult(
            videoCodecs: video.codecs,
            hasAudio: !audios.isEmpty, audioTracks: tracks,
            videoFrames: video.framesEncoded, outputSeconds: Double(video.framesEncoded) / rate,
            videoSeconds: Double(decodedVideoEnd) * videoTimeBase.value,
            declaredVideoSeconds: input.declaredSeconds(of: videoIndex),
            decodeErrors: video.decodeErrors + audioDecodeErrors + subtitles.values.reduce(0) { $0 + $1.decodeErrors },
            closedGapSeconds: video.closedGapSeconds,
            thumbnails: thumbnails.thumbnails, poster: thumbnails.poster,
            storyboard: thumbnails.storyboard.files, storyboardInterval: plan.storyboard.interval,
            subtitleCues: subtitles.mapValues(\.cues))
    }

    /// The streams the plan names must be the ones the probe saw: the source may have been rewritten in place.
    private func checkStreamsMatchProbe(_ input: InputFile) throws(MediaError) {
        let v = plan.info.video
        var matches = input.streamMatches(v.streamIndex, type: .video, codec: v.codec, width: v.width, height: v.height)
        let audio = plan.audioTracks.isEmpty ? plan.info.audio.map { [$0] } ?? []
            : (plan.info.audioStreams ?? []).filter { a in plan.audioTracks.contains { $0.streamIndex == a.streamIndex } }
        for a in audio where !input.streamMatches(a.streamIndex, type: .audio, codec: a.codec) { matches = false }
        for s in plan.info.subtitleStreams ?? [] where plan.subtitleStreams.contains(s.streamIndex) {
            if !input.streamMatches(s.streamIndex, type: .subtitle, codec: s.codec) { matches = false }
        }
        if !matches {
            throw MediaError(stage: "changed", call: "avformat_find_stream_info", code: AVStatus.invalidData,
                             message: "the file changed while it was being read (its streams differ from the probe); it was not transcoded")
        }
    }
}
