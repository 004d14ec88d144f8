import ArgumentParser
import Foundation
import WatchFolder

/// `--config PATH`, shared by every command that reads the config.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The config file (default: $WATCHFOLDER_CONFIG, else \(ConfigLoader.defaultPath)).", valueName: "path"))
    var config: String?

    /// Loads the config; a bad config is a usage error (exit 2) naming file and line.
    func load() throws -> Config {
        try ConfigLoader.load(path: ConfigLoader.resolvePath(config))
    }
}
