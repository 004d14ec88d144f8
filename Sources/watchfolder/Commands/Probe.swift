import ArgumentParser
import Pipeline

struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the engine sees in a file and the ladder it would make.",
        discussion: """
            Example:
              watchfolder probe phone-clip.mov --json
            """
    )

    @Argument(help: "The video to inspect.") var input: String
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        throw CLIFailure.work("probe: the engine is not built yet")
    }
}
