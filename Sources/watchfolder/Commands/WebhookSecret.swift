import ArgumentParser
import WatchFolder

struct WebhookSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-secret",
        abstract: "Print a new random webhook signing secret (whsec_...).",
        discussion: """
            Put it in a [[webhook]] table as `secret`, and give it to the receiver, which verifies requests
            with a Standard Webhooks library.

            Example:
              watchfolder webhook-secret
            """
    )

    func run() async throws {
        print(WebhookSigner.generateSecret())
    }
}
