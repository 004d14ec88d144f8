import ArgumentParser
import WatchFolder

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: watch the inbox, transcode, publish, notify.",
        discussion: """
            Runs in the foreground until SIGTERM or SIGINT; SIGHUP reloads the config.

            Example:
              watchfolder run --config /etc/watchfolder/config.toml
            """
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        try await Daemon(config: config).run()
    }
}
