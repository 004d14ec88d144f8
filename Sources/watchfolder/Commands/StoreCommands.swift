import ArgumentParser
import WatchFolder

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts per state, the queue and running jobs with progress.",
        discussion: """
            Example:
              watchfolder status --config /etc/watchfolder/config.toml
            """
    )
    @OptionGroup var options: ConfigOption

    func run() async throws {
        _ = try options.load()
        throw CLIFailure.work("status: the job store is not built yet")
    }
}

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs, newest first.",
        discussion: """
            Example:
              watchfolder jobs --state failed --json
            """
    )
    @OptionGroup var options: ConfigOption
    @Option(help: "queued, running, publishing, completed, failed or cancelled.") var state: String?
    @Option(help: "At most this many jobs.") var limit: Int = 50
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        _ = try options.load()
        throw CLIFailure.work("jobs: the job store is not built yet")
    }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Requeue a failed job (its source is moved back from the failed folder).",
        discussion: """
            Example:
              watchfolder retry 42
            """
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "The job id.") var id: Int64

    func run() async throws {
        _ = try options.load()
        throw CLIFailure.work("retry: the job store is not built yet")
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a queued or running job.",
        discussion: """
            Example:
              watchfolder cancel 42
            """
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "The job id.") var id: Int64

    func run() async throws {
        _ = try options.load()
        throw CLIFailure.work("cancel: the job store is not built yet")
    }
}
