import Foundation
import TestSupport
import Testing

/// The CLI against the cluster's PostgreSQL store (`[state] database_url`), a real throwaway PostgreSQL 15: the store
/// and webhook commands work on it as on SQLite.
@Suite struct ClusterStoreCLITests {
    /// Runs `psql` on `url` (an independent client), rows as text.
    func psql(_ url: String, _ query: String) async throws -> String {
        let result = try await tool("psql", [url, "-Atc", query])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theStoreAndWebhookCommandsWorkOnThePostgreSQLStore() async throws {
        try await withTemporaryDirectory { dir in
            let url = try await PostgresServer.shared().makeDatabase()
            let config = try writeConfig(in: dir, state: "database_url = \"\(url)\"\nnode = \"cli-test\"").path
            let checked = try await watchfolder("check-config", "--config", config)
            #expect(checked.status == 0 && checked.stdout.contains("database_url = \"\(url)\""), "\(checked.stdout)\(checked.stderr)")

            // The first command migrates the empty database.
            let empty = try await watchfolder("jobs", "--json", "--config", config)
            #expect(empty.status == 0 && empty.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]", "\(empty.stdout)\(empty.stderr)")
            _ = try await psql(url, """
                INSERT INTO job (source_path, device, inode, size, mtime_ns, state, created_at, updated_at)
                VALUES ('shows/a.mp4', 1, 1, 10, 1, 'queued', now(), now())
                """)
            let jobs = try await watchfolder("jobs", "--json", "--config", config)
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]])
            #expect(listed.count == 1 && listed.first?["source"] as? String == "shows/a.mp4" && listed.first?["node"] is NSNull)
            let status = try await watchfolder("status", "--config", config)
            #expect(status.status == 0 && status.stdout.contains("queued 1"), "\(status.stdout)")
            let nodes = try await watchfolder("nodes", "--json", "--config", config)
            #expect(nodes.status == 0 && nodes.stdout.contains("[") && !nodes.stdout.contains("name"), "\(nodes.stdout)\(nodes.stderr)")

            let cancel = try await watchfolder("cancel", "1", "--config", config)
            #expect(cancel.status == 0 && cancel.stdout == "job 1 cancelled: shows/a.mp4\n", "\(cancel.stdout)\(cancel.stderr)")
            #expect(try await psql(url, "SELECT state FROM job WHERE id = 1") == "cancelled")
            #expect(try await psql(url, "SELECT type FROM event WHERE job_id = 1 ORDER BY id") == "job.cancelled")
            let retry = try await watchfolder("retry", "1", "--config", config)
            #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
            #expect(try await psql(url, "SELECT state, attempts FROM job WHERE id = 1") == "queued|0")
            let missing = try await watchfolder("cancel", "7", "--config", config)
            #expect(missing.status == 1 && missing.stderr.hasPrefix("watchfolder: cancel: no job 7"), "\(missing.stderr)")

            // The webhook commands read and write the store's webhook queue (the daemon fills it).
            let hooks = try await watchfolder("webhooks", "--json", "--config", config)
            #expect(hooks.status == 0 && hooks.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]", "\(hooks.stdout)\(hooks.stderr)")
            let resend = try await watchfolder("webhooks", "resend", "4", "--config", config)
            #expect(resend.status == 1 && resend.stderr == "watchfolder: resend: no webhook delivery 4\n", "\(resend.stderr)")
        }
    }

    /// A server that is not there is named in one line (without a password), after a bounded wait.
    @Test func anUnreachableStoreIsOneLine() async throws {
        try await withTemporaryDirectory { dir in
            let port = try freePort()
            let config = try writeConfig(in: dir, state: "database_url = \"postgresql://wf:secret@127.0.0.1:\(port)/wf?sslmode=disable\"").path
            let checked = try await watchfolder("check-config", "--config", config)
            #expect(checked.stdout.contains("postgresql://wf:***@127.0.0.1:\(port)/wf") && !checked.stdout.contains("secret"))
            let result = try await watchfolder("jobs", "--config", config)
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("watchfolder: ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("127.0.0.1:\(port)") && !result.stderr.contains("secret"), "\(result.stderr)")
        }
    }
}
