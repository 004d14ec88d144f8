import ArgumentParser
import Foundation
import Pipeline
import WatchFolder

struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the engine sees in a file and the ladder it would make.",
        discussion: """
            Prints container, duration, streams, codec, pixel format, bit depth, frame rate (VFR or not), field
            order, sample/display aspect, rotation, audio layout and the planned renditions (audio ones too). A file the engine
            cannot transcode (no video stream, audio-only, broken) exits 1 with one line saying why.

            Example:
              watchfolder probe phone-clip.mov --json
            """
    )

    @Argument(help: "The video to inspect.") var input: String
    @Flag(help: "Print JSON instead of text.") var json = false
    @Option(help: ArgumentHelp("Plan with the ladder in this config's [transcode]; apply its [limits].", valueName: "path"))
    var config: String?

    struct Output: Encodable {
        var probe: MediaInfo
        var ladder: [PlannedRung]
        /// The audio renditions (two or more audio streams), absent when the one audio stream is muxed.
        var audioRenditions: [PlannedAudioTrack]?
    }

    func run() async throws {
        var ladder = Rung.defaultLadder
        var limits = Limits()
        var hdr = HDRMode.tonemap
        var maxAudioTracks = TranscodeOptions().maxAudioTracks
        var separateAudio = TranscodeOptions().writesDash
        if let config {
            let loaded = try ConfigLoader.load(path: config)
            ladder = loaded.transcode.options.ladder
            limits = loaded.limits
            hdr = loaded.transcode.options.hdr
            maxAudioTracks = loaded.transcode.options.maxAudioTracks
            separateAudio = loaded.transcode.options.writesDash
        }
        var info: MediaInfo
        do {
            info = try Prober.probe(URL(fileURLWithPath: input), limits: limits)
        } catch {
            throw CLIFailure.work("\(error)")
        }
        let plan = LadderPlanner.plan(info, ladder: ladder, hdr: hdr)
        if let colour = info.video.colour { info.video.colour?.ladder = LadderPlanner.colourPlan(colour, rungs: plan, hdr: hdr) }
        let audio = AudioTrackPlanner.plan(info, maxTracks: maxAudioTracks, separate: separateAudio)
        if json {
            try printJSON(Output(probe: info, ladder: plan, audioRenditions: audio.tracks.isEmpty ? nil : audio.tracks))
            return
        }
        let v = info.video
        var lines = [
            "file:        \(info.file)",
            "container:   \(info.container)",
            String(format: "duration:    %.3f s", info.durationSeconds),
            "streams:     " + info.streams.map { "#\($0.index) \($0.type) \($0.codec)" }.joined(separator: ", "),
            "video:       #\(v.streamIndex) \(v.codec)\(v.profile.map { " (\($0))" } ?? "") \(v.width)x\(v.height)",
            "pixels:      \(v.pixelFormat), \(v.bitDepth)-bit \(v.chroma)",
            String(format: "frame rate:  %.3f fps (%@)%@%@", v.frameRate, v.frameRateRatio.description,
                   v.variableFrameRate ? ", variable (VFR)" : ", constant",
                   v.sourceFrameRateRatio.map { $0 != v.frameRateRatio ? " (source \($0), played at \(Int(($0.value / v.frameRate).rounded()) == 2 ? "half" : "a quarter") rate)" : "" } ?? ""),
            "fields:      \(v.fieldOrder)\(v.interlaced ? " (interlaced: deinterlaced with bwdif)" : "")",
            "aspect:      SAR \(v.sampleAspect), DAR \(v.displayAspect)",
            "rotation:    \(v.rotation)°",
            "display:     \(v.displayWidth)x\(v.displayHeight)",
        ]
        if let c = v.colour {
            lines.append("colour:      primaries \(c.primaries), transfer \(c.transfer), matrix \(c.matrix), range \(c.range)"
                + (c.assumed ? " (untagged: assumed)" : ""))
            lines.append("dynamic:     " + ["pq": "HDR PQ (HDR10)", "hlg": "HDR HLG"][c.hdr, default: "SDR"]
                + (c.dolbyVisionProfile.map { ", Dolby Vision profile \($0) (read as its base layer)" } ?? ""))
            lines.append("colour plan: \(c.ladder)")
        }
        if let a = info.audio {
            lines.append("audio:       #\(a.streamIndex) \(a.codec) \(a.sampleRate) Hz, \(a.channels) ch (\(a.layout))")
        } else {
            lines.append("audio:       none")
        }
        if !audio.tracks.isEmpty {
            lines.append("audio renditions: " + audio.tracks.map {
                "\($0.folder) \"\($0.name)\" (\($0.language), #\($0.streamIndex)\($0.isDefault ? ", default" : ""))"
            }.joined(separator: ", ") + (audio.ignored > 0 ? "; \(audio.ignored) more ignored (max_audio_tracks \(maxAudioTracks))" : ""))
        }
        lines.append("ladder:      " + plan.map {
            "\($0.name) \($0.width)x\($0.height) @ \(Bitrate.format($0.videoBitrate))\($0.keepsHDR ? " (HEVC Main10 \($0.videoRange.rawValue))" : "")"
        }
            .joined(separator: ", "))
        print(lines.joined(separator: "\n"))
    }
}
