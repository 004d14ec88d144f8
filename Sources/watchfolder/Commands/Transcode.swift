public import ArgumentParser
public import Pipeline

struct Transcode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transcode one file into one HLS package, without the daemon.",
        discussion: """
            Example:
              watchfolder transcode master.mov --out ./master-hls --preset veryfast --hardware cpu
            """
    )

    @Argument(help: "The video to transcode.") var input: String
    @Option(name: .long, help: ArgumentHelp("Where the package appears (created; must not exist yet).", valueName: "dir"))
    var out: String
    @Option(help: "libx264 preset.") var preset: String = "veryfast"
    @Option(help: "auto, cpu, nvenc, vaapi or qsv.") var hardware: HardwarePreference = .auto

    func run() async throws {
        throw CLIFailure.work("transcode: the engine is not built yet")
    }
}

extension HardwarePreference: ExpressibleByArgument {}
