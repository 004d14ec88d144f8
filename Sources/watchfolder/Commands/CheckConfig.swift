import ArgumentParser
import WatchFolder

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the config and print the effective settings, defaults filled in, secrets masked.",
        discussion: """
            Exits 0 when the config is valid, 2 with `FILE:LINE: what is wrong` when it is not.

            Example:
              watchfolder check-config --config ./var/config.toml
            """
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        print(config.effectiveTOML(), terminator: "")
    }
}
