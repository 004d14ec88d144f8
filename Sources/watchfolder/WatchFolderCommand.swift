import ArgumentParser
import Foundation
import WatchFolder

/// `watchfolder`: the root command. Subcommands are thin layers over the `Pipeline` and `WatchFolder` libraries.
@main
struct WatchFolderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watchfolder",
        abstract: "Turns videos dropped into a folder into HLS packages, published to an outbox or S3.",
        discussion: """
            Exit codes: 0 success, 1 the work failed (bad input, failed job), 2 usage or config error.

            Example:
              watchfolder run --config /etc/watchfolder/config.toml
            """,
        version: WatchFolderVersion.string,
        subcommands: [
            Run.self, Transcode.self, Probe.self, CheckConfig.self, Status.self, Jobs.self, Nodes.self, Retry.self, Cancel.self,
            WebhookSecret.self, Webhooks.self, S3Upload.self,
        ]
    )

    /// Parses, runs, and maps every failure onto the documented exit codes with a one-line message.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("watchfolder: \(failure.message)\n".utf8))
            Foundation.exit(failure.code)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(CLIFailure.usage)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)  // --help, --version, explicit exit codes
            }
            // Every other ArgumentParser error is a usage error: one line, exit 2, as documented.
            // ArgumentParser may spread a message over lines (a list of allowed values): fold it into one.
            let text = message(for: error).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "- ", with: "") }
                .filter { !$0.isEmpty }.joined(separator: " ")
            FileHandle.standardError.write(Data("watchfolder: \(text) (see 'watchfolder --help')\n".utf8))
            Foundation.exit(CLIFailure.usage)
        }
    }
}

/// A failure the CLI reports in one line, with its exit code.
/// Prints `value` as the `--json` output of a command: pretty, keys sorted, slashes unescaped.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
