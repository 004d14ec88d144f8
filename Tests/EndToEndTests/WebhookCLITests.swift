import Foundation
import TestSupport
import Testing

/// `watchfolder webhooks` and the `[[webhook]]` config contracts, through the binary.
@Suite("Webhook CLI")
struct WebhookCLITests {
    @Test("a malformed webhook secret is a config error naming its line, exit 2")
    func wrongSecretFormat() async throws {
        try await withTemporaryDirectory { dir in
            // Lines: the minimal config is 12 lines, then a blank line, then [[webhook]] at 14.
            let extra = "[[webhook]]\nurl = \"http://127.0.0.1:9/hooks\"\nsecret = \"not-a-standard-webhooks-secret\"\n"
            let config = try writeConfig(in: dir, extra: extra)
            let line = try #require(try String(contentsOf: config, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .firstIndex { $0.hasPrefix("secret") }) + 1
            for command in [["check-config"], ["run"]] {
                let r = try await runProcess(watchfolderBinary, command + ["--config", config.path], timeout: 30)
                #expect(r.status == 2, "\(command): \(r.stderr)")
                #expect(r.stderr.split(separator: "\n").count == 1)
                #expect(r.stderr.hasPrefix("\(config.path):\(line): 'secret' in [[webhook]]"), "\(r.stderr)")
                #expect(r.stderr.contains("whsec_"))
            }
            // A secret from `webhook-secret` is accepted.
            let secret = try await watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(secret.hasPrefix("whsec_"))
            let good = try writeConfig(in: dir, extra: "[[webhook]]\nurl = \"http://127.0.0.1:9/hooks\"\nsecret = \"\(secret)\"\n")
            #expect(try await watchfolder("check-config", "--config", good.path).status == 0)
        }
    }

    @Test("webhooks lists deliveries; bad options exit 2; resending an unknown delivery exits 1")
    func listAndResendErrors() async throws {
        try await withTemporaryDirectory { dir in
            let config = try writeConfig(in: dir)
            let empty = try await watchfolder("webhooks", "--json", "--config", config.path)
            #expect(empty.status == 0, "\(empty.stderr)")
            #expect((try JSONSerialization.jsonObject(with: Data(empty.stdout.utf8)) as? [Any])?.isEmpty == true)
            let table = try await watchfolder("webhooks", "--state", "failed", "--config", config.path)
            #expect(table.status == 0)
            #expect(table.stdout.hasPrefix("ID\tSTATE\tATTEMPTS\tTYPE\tJOB\tWEBHOOK-ID\tURL"))
            let bad = try await watchfolder("webhooks", "--state", "lost", "--config", config.path)
            #expect(bad.status == 2)
            #expect(bad.stderr.hasPrefix("watchfolder: The value 'lost' is invalid for '--state <state>'"), "\(bad.stderr)")
            #expect(bad.stderr.contains("pending") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
            let missing = try await watchfolder("webhooks", "resend", "42", "--config", config.path)
            #expect(missing.status == 1)
            #expect(missing.stderr == "watchfolder: resend: no webhook delivery 42\n")
            let help = try await watchfolder("webhooks", "--help")
            #expect(help.status == 0)
            #expect(help.stdout.contains("watchfolder webhooks resend"))
        }
    }
}
