import Foundation
public import Logging

/// Turns one source file into one HLS package: probe, plan, decode once and encode every rung in one pass,
/// package, validate, and rename into place.
public struct Transcoder: Sendable {
    let logger: Logger
    let assumedGPUEncoders: Set<String>?

    public init(logger: Logger) {
        self.logger = logger
        self.assumedGPUEncoders = nil
    }

    /// A transcoder whose hardware selection believes exactly `assumingGPUEncoders` opened (instead of probing).
    /// For tests and diagnosis of the GPU → CPU fallback on machines without a GPU.
    public init(logger: Logger, assumingGPUEncoders: Set<String>) {
        self.logger = logger
        self.assumedGPUEncoders = assumingGPUEncoders
    }

    /// Transcodes `request.input` into `request.outputDirectory`.
    ///
    /// The encode runs on a thread of its own (it blocks for minutes). The package is built in
    /// `request.workDirectory` and renamed to `request.outputDirectory` only when complete; on any failure the
    /// work directory is removed and nothing appears. A GPU encoder that fails is retried on libx264 (logged;
    /// the manifest says `libx264` and why).
    /// - Parameter progress: receives ``TranscodeProgress`` a few times a second; finished when this returns.
    /// - Returns: the manifest (also written as `manifest.json`).
    /// - Throws: ``PipelineError`` (one-line `description`, e.g. `broken.mp4: no video stream found (moov atom
    ///   missing?)`); `CancellationError` when the task is cancelled (stops within a second).
    public func transcode(_ request: TranscodeRequest,
                          progress: AsyncStream<TranscodeProgress>.Continuation? = nil) async throws -> PackageManifest {
        defer { progress?.finish() }
        let flag = Interrupter()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PackageManifest, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try self.runBlocking(request, flag: flag, progress: progress) })
                }
                thread.name = "wf-transcode"
                thread.stackSize = 8 << 20
                thread.start()
            }
        } onCancel: {
            flag.cancel()
        }
    }

    func runBlocking(_ request: TranscodeRequest, flag: Interrupter,
                     progress: AsyncStream<TranscodeProgress>.Continuation?) throws -> PackageManifest {
        LibAV.configure()
        let name = request.source?.name ?? request.input.lastPathComponent
        let work = request.workDirectory
        let fm = FileManager.default
        var logger = self.logger
        logger[metadataKey: "wf.file"] = "\(name)"
        for (key, value) in request.logMetadata { logger[metadataKey: key] = value }
        do {
            try? fm.removeItem(at: work)
            try fm.createDirectory(at: work.appendingPathComponent("thumbnails"), withIntermediateDirectories: true)
        } catch {
            throw PipelineError(.output, file: name, "cannot create the work directory \(work.path): \(error.localizedDescription)")
        }
        do {
            let source = try request.source ?? SourceFile.open(path: request.input.path)
            let manifest = try build(request, source: source, flag: flag, progress: progress, logger: logger)
            if flag.isCancelled { throw CancellationError() }
            try fm.createDirectory(at: request.outputDirectory.deletingLastPathComponent(), withIntermediateDirectories: true)
            do {
                try fm.moveItem(at: work, to: request.outputDirectory)
            } catch {
                throw PipelineError(.output, file: name, "cannot move the package to \(request.outputDirectory.path): \(error.localizedDescription)")
            }
            return manifest
        } catch {
            try? fm.removeItem(at: work)
            if flag.isCancelled || (error as? PipelineError)?.code == .cancelled { throw CancellationError() }
            if let reason = flag.reason { throw PipelineError.interrupted(reason, file: name, limits: request.options.limits) }
            throw error
        }
    }

    private static func runSession(_ plan: SessionPlan, flag: Interrupter, logger: Logger,
                                   onProgress: @escaping (Double) -> Void) -> Result<SessionResult, MediaError> {
        do {
            return .success(try TranscodeSession(plan: plan, interrupter: flag, logger: logger, onProgress: onProgress).run())
        } catch {
            return .failure(error)
        }
    }

    private func build(_ request: TranscodeRequest, source: SourceFile, flag: Interrupter,
                       progress: AsyncStream<TranscodeProgress>.Continuation?, logger: Logger) throws -> PackageManifest {
        let started = Date()
        let options = request.options
        let name = source.name
        var info = try Prober.probeTyped(source, limits: options.limits, interrupter: flag)
        let probed = Date()
        let rungs = LadderPlanner.plan(info, ladder: options.ladder.isEmpty ? Rung.defaultLadder : options.ladder, hdr: options.hdr)
        if let colour = info.video.colour {
            info.video.colour?.ladder = LadderPlanner.colourPlan(colour, rungs: rungs, hdr: options.hdr)
        }
        let audio = AudioTrackPlanner.plan(info, maxTracks: options.maxAudioTracks, separate: options.writesDash)
        if audio.ignored > 0 {
            logger.warning("the source has more audio streams than max_audio_tracks; the rest are ignored", metadata: [
                "wf.audio.streams": "\(info.audioStreams?.count ?? 0)", "wf.audio.ignored": "\(audio.ignored)"])
        }
        // Sidecars are read before the pass: one that does not parse fails the job at once, with its file and line.
        let sidecarCues = try request.subtitles.map { sidecar throws(PipelineError) in try sidecar.readCues() }
        let subtitles = SubtitleTrackPlanner.plan(info, sidecars: request.subtitles.map { ($0.name, $0.language) })
        if subtitles.ignored > 0 {
            logger.warning("the source has more than 32 subtitle streams; the rest are ignored", metadata: [
                "wf.subtitle.streams": "\(info.subtitleStreams?.count ?? 0)", "wf.subtitle.ignored": "\(subtitles.ignored)"])
        }
        let available = assumedGPUEncoders ?? (options.hardware == .cpu ? [] : HardwareProbe.available)
        var encoder = try HardwareProbe.select(options.hardware, available: available)
        let sourceDuration = info.video.durationSeconds > 0 ? info.video.durationSeconds : info.durationSeconds
        // What the package will last: the source, or its first `stopAfterSeconds`.
        let duration = options.stopAt.map { sourceDuration > 0 ? min(sourceDuration, $0) : $0 } ?? sourceDuration
        let count = max(0, options.thumbnails)
        var plan = SessionPlan(
            source: source, name: name, info: info, rungs: rungs, audioTracks: audio.tracks,
            subtitleStreams: subtitles.tracks.compactMap(\.streamIndex), encoder: encoder, options: options,
            workDirectory: request.workDirectory,
            thumbnailTimes: (0..<count).map { duration * (Double($0) + 0.5) / Double(count) },
            posterTime: duration * 0.1,
            storyboard: Storyboard(interval: Storyboard.interval(seconds: options.storyboardSeconds, duration: duration)))
        logger.debug("transcoding", metadata: [
            "wf.encoder": "\(encoder)", "wf.rungs": "\(rungs.map(\.name).joined(separator: ","))",
        ])

        let throttle = ProgressThrottle()
        let onProgress: (Double) -> Void = { seconds in
            guard let progress else { return }
            let now = Date()
            guard now.timeIntervalSince(throttle.last) >= 0.25 else { return }
            throttle.last = now
            let elapsed = max(now.timeIntervalSince(probed), 0.001)
            let speed = seconds / elapsed
            let eta: Double? = speed > 0 && duration > 0 ? max(0, duration - seconds) / speed : nil
            progress.yield(TranscodeProgress(fraction: duration > 0 ? min(1, max(0, seconds / duration)) : 0,
                                             mediaSeconds: seconds, speed: speed, eta: eta))
        }

        var fallbackReason: String?
        var result: SessionResult
        switch Self.runSession(plan, flag: flag, logger: logger, onProgress: onProgress) {
        case .success(let r):
            result = r
        case .failure(let error):
            guard encoder != HardwareProbe.cpuEncoder, !flag.shouldStop, !["refuse", "limit", "bound", "changed"].contains(error.stage) else {
                throw PipelineError.transcoding(error, source: source)
            }
            fallbackReason = "\(encoder): \(error.description)"
            logger.warning("GPU encoder failed; redoing the job on libx264", metadata: ["wf.reason": "\(error.description)"])
            try? FileManager.default.removeItem(at: request.workDirectory)
            try FileManager.default.createDirectory(at: request.workDirectory.appendingPathComponent("thumbnails"),
                                                    withIntermediateDirectories: true)
            encoder = HardwareProbe.cpuEncoder
            plan.encoder = encoder
            do {
                result = try Self.runSession(plan, flag: flag, logger: logger, onProgress: onProgress).get()
            } catch {
                throw PipelineError.transcoding(error, source: source)
            }
        }
        let encoded = Date()

        // The output must not come up short of the source (truncated or damaged files). The video is held against
        // its own declared end; where the container declares only its total (Matroska), the package, which runs
        // to the end of the longer stream, is held against that. Jumps closed in the timeline are not missing.
        let frame = 1 / info.video.frameRate
        let stop = options.stopAt ?? .infinity
        let (decoded, declared) = result.declaredVideoSeconds > 0
            ? (result.videoSeconds, result.declaredVideoSeconds) : (result.outputSeconds, sourceDuration)
        let expected = min(declared - result.closedGapSeconds, stop)
        if expected > 0, expected - decoded > max(expected * 0.005, 1.5 * frame) {
            throw PipelineError(.duration, file: name, String(
                format: "only %.2f s of %.2f s could be decoded (the file is truncated or damaged)", decoded, expected))
        }
        let milliseconds = Int64((result.outputSeconds * 1000).rounded())
        let subtitleCues = subtitles.tracks.compactMap { track -> (track: PlannedSubtitleTrack, cues: [SubtitleCue])? in
            let cues: [SubtitleCue]? = switch track.origin {
            case .stream(let index): result.subtitleCues[index]  // nil: its decoder did not open
            case .sidecar(let i, _): sidecarCues[i]
            }
            return cues.map { (track, SubtitleCue.fitted($0, durationMilliseconds: milliseconds)) }
        }
        let package = try PackageWriter.write(
            directory: request.workDirectory, rungs: rungs, result: result, options: options,
            frameRate: info.video.frameRate, subtitles: subtitleCues, file: name)
        let done = Date()
        progress?.yield(TranscodeProgress(fraction: 1, mediaSeconds: result.outputSeconds,
                                          speed: result.outputSeconds / max(encoded.timeIntervalSince(probed), 0.001), eta: 0))
        var manifest = PackageManifest(
            source: info, renditions: package.video, durationSeconds: result.outputSeconds, sourceDurationSeconds: sourceDuration,
            encoder: encoder, fallbackReason: fallbackReason, segmentFormat: options.packagedSegmentFormat.rawValue,
            segmentSeconds: options.segmentSeconds, hasAudio: result.audioTracks.isEmpty ? result.hasAudio : !package.audio.isEmpty,
            audioRenditions: result.audioTracks.isEmpty ? nil : package.audio,
            audioStreamsIgnored: audio.ignored > 0 ? audio.ignored : nil, thumbnails: result.thumbnails,
            poster: result.poster,
            storyboard: result.storyboard.isEmpty ? nil : .init(
                vtt: Storyboard.vttName, sheets: result.storyboard.filter { $0 != Storyboard.vttName },
                intervalSeconds: result.storyboardInterval),
            decodeErrors: result.decodeErrors,
            timings: .init(probeSeconds: probed.timeIntervalSince(started), transcodeSeconds: encoded.timeIntervalSince(probed),
                           packageSeconds: done.timeIntervalSince(encoded), totalSeconds: done.timeIntervalSince(started),
                           speed: result.outputSeconds / max(encoded.timeIntervalSince(probed), 0.001)))
        manifest.master = "master.m3u8"
        manifest.subtitleRenditions = package.subtitles.isEmpty ? nil : package.subtitles
        if options.writesDash {
            try DashManifest.write(manifest, directory: request.workDirectory, file: name)
            manifest.dash = DashManifest.fileName
        }
        manifest.files = try PackageWriter.files(in: request.workDirectory, file: name)
        try PackageWriter.writeManifest(manifest, directory: request.workDirectory, file: name)
        return manifest
    }
}

/// When progress was last reported (touched only by the job's thread).
private final class ProgressThrottle {
    var last = Date.distantPast
}
