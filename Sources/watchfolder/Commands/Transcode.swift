public import ArgumentParser
import Dispatch
import Foundation
import Logging
public import Pipeline
import WatchFolder

struct Transcode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transcode one file into one HLS package, without the daemon.",
        discussion: """
            The package (master.m3u8, one folder per rendition, thumbnails, poster.jpg, manifest.json) is built
            next to --out and appears there only when complete. On a terminal a progress bar is drawn on stderr;
            otherwise nothing is printed but errors, or JSON progress lines on stdout with --progress json.
            Exit codes: 0 done, 1 the file cannot be transcoded (one line says why), 2 usage or config error.

            Example:
              watchfolder transcode master.mov --out ./master-hls --preset veryfast --hardware cpu
            """
    )

    enum ProgressStyle: String, ExpressibleByArgument, CaseIterable {
        case auto, bar, json, none
    }

    @Argument(help: "The video to transcode.") var input: String
    @Option(name: .long, help: ArgumentHelp("Where the package appears (created; must not exist yet).", valueName: "dir"))
    var out: String
    @Option(help: "libx264 preset (default: the config's, else veryfast).") var preset: String?
    @Option(help: "auto, cpu, nvenc, vaapi or qsv (default: the config's, else auto).") var hardware: HardwarePreference?
    @Option(help: ArgumentHelp("Take [transcode] (ladder, segments, thumbnails...) and [limits] from this config.", valueName: "path"))
    var config: String?
    @Option(help: "auto (a bar on a terminal, else nothing), bar, json (lines on stdout) or none.")
    var progress: ProgressStyle = .auto

    func run() async throws {
        var options = TranscodeOptions()
        if let config {
            let loaded = try ConfigLoader.load(path: config)
            LogSetup.bootstrap(level: loaded.log.loggerLevel, json: loaded.log.format == .json)
            options = loaded.transcode.options
            options.limits = loaded.limits
        }
        if let preset {
            guard Config.Transcode.presets.contains(preset) else {
                throw CLIFailure.usage("--preset must be one of \(Config.Transcode.presets.joined(separator: ", ")), not \"\(preset)\"")
            }
            options.preset = preset
        }
        if let hardware { options.hardware = hardware }
        do {
            try HardwareProbe.check(options.hardware)
        } catch {
            throw CLIFailure.usage("\(error)")
        }
        let inputURL = URL(fileURLWithPath: input).standardizedFileURL
        let outURL = URL(fileURLWithPath: out).standardizedFileURL
        if FileManager.default.fileExists(atPath: outURL.path) {
            throw CLIFailure.usage("--out \(out) already exists; the package directory must not exist yet")
        }
        let work = outURL.deletingLastPathComponent()
            .appendingPathComponent(".\(outURL.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        var logger = Logger(label: "watchfolder.transcode")
        logger.logLevel = .warning
        let request = TranscodeRequest(input: inputURL, outputDirectory: outURL, workDirectory: work, options: options)

        let style: ProgressStyle = progress == .auto ? (isatty(2) != 0 ? .bar : .none) : progress
        let (stream, continuation) = AsyncStream<TranscodeProgress>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let transcoder = Transcoder(logger: logger)
        let job = Task { try await transcoder.transcode(request, progress: continuation) }

        // Ctrl-C / SIGTERM cancel the job, which removes its work directory.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { job.cancel() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        for await p in stream {
            switch style {
            case .bar: ProgressBar.draw(p)
            case .json: ProgressBar.json(p)
            default: break
            }
        }
        do {
            let manifest = try await job.value
            if style == .bar { ProgressBar.finish(manifest) }
        } catch is CancellationError {
            if style == .bar { FileHandle.standardError.write(Data("\n".utf8)) }
            throw CLIFailure.work("\(inputURL.lastPathComponent): cancelled")
        } catch {
            if style == .bar { FileHandle.standardError.write(Data("\n".utf8)) }
            throw CLIFailure.work("\(error)")
        }
    }
}

extension HardwarePreference: ExpressibleByArgument {}
