import Foundation
import Synchronization
import TestSupport
import Testing

@Suite(.serialized) struct DaemonTests {
    @Test func takesCompletedUploadsIgnoresTheRestAndFailsBrokenFiles() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, transcode: "max_attempts = 1", extra: "[log]\nformat = \"json\"")
            let daemon = try await DaemonProcess.start(config: f.config)
            #expect(daemon.stdout.contains("drop videos into \(f.inbox.path)"))

            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("a.mp4"))  // write, then rename
            // A nested folder created after start, the file copied straight in.
            try FileManager.default.createDirectory(at: f.inbox.appendingPathComponent("shows/s1"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: try await Clips.shared(), to: f.inbox.appendingPathComponent("shows/s1/b.mp4"))
            for name in [".DS_Store", "Thumbs.db", "notes.txt"] {
                try Data("x".utf8).write(to: f.inbox.appendingPathComponent(name))
            }
            try FileManager.default.copyItem(at: try await Clips.shared(), to: f.inbox.appendingPathComponent("c.mp4.filepart"))
            try Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: f.inbox.appendingPathComponent("broken.mp4"))

            try await waitUntil("two completed and one failed", timeout: 120) {
                try await states(f.config) == ["a.mp4": "completed", "shows/s1/b.mp4": "completed", "broken.mp4": "failed"]
            }
            #expect(f.packages() == ["a", "b"])
            #expect(f.exists(f.archive, "a.mp4") && f.exists(f.archive, "shows/s1/b.mp4"))
            #expect(f.exists(f.failed, "broken.mp4"))
            let note = try String(contentsOf: f.failed.appendingPathComponent("broken.mp4.error.txt"), encoding: .utf8)
            #expect(note.contains("reason: ") && note.contains("attempts: 1") && note.contains("encoder: "))
            #expect(f.tree(f.inbox).filter { !$0.hasPrefix("shows") }.sorted()
                    == [".DS_Store", "Thumbs.db", "c.mp4.filepart", "notes.txt"])
            #expect(daemon.isRunning)

            let status = try await watchfolder("status", "--config", f.config.path)
            #expect(status.status == 0)
            #expect(status.stdout.contains("completed 2") && status.stdout.contains("failed 1"))
            let all = try await jobs(f.config)
            let completed = try #require(all.first { $0["source"] as? String == "a.mp4" })
            #expect(completed["encoder"] as? String == "libx264")
            #expect((completed["master"] as? String)?.hasSuffix("outbox/a/master.m3u8") == true)
            #expect((completed["renditions"] as? [String])?.isEmpty == false)
            #expect(try await tool("ffprobe", ["-v", "error", f.outbox.appendingPathComponent("a/master.m3u8").path]).status == 0)

            #expect(try await jobs(f.config, state: "failed").compactMap { $0["source"] as? String } == ["broken.mp4"])
            let limited = try await watchfolder("jobs", "--limit", "1", "--json", "--config", f.config.path)
            #expect((try JSONSerialization.jsonObject(with: Data(limited.stdout.utf8)) as? [Any])?.count == 1)
            let bogus = try await watchfolder("jobs", "--state", "exploded", "--config", f.config.path)
            #expect(bogus.status == 2 && bogus.stderr.split(separator: "\n").count == 1)
            let statusJSON = try await watchfolder("status", "--json", "--config", f.config.path)
            let report = try JSONSerialization.jsonObject(with: Data(statusJSON.stdout.utf8)) as? [String: Any]
            #expect((report?["counts"] as? [String: Int])?["completed"] == 2)

            // One JSON log line per transition, with the job id and file name.
            let lines = daemon.stderr.split(separator: "\n")
            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == lines.count)
            let brokenID = try #require(all.first { $0["source"] as? String == "broken.mp4" }?["id"] as? Int)
            let transitions = objects.filter { $0["wf.job.id"] as? String == "\(brokenID)" }.compactMap { $0["msg"] as? String }
            #expect(transitions == ["job queued", "job started", "job failed"])

            // retry: the source comes back from the failed folder and the job runs again (and fails again).
            let retry = try await watchfolder("retry", "\(brokenID)", "--config", f.config.path)
            #expect(retry.status == 0, "\(retry.stderr)")
            try await waitUntil("the retried job failed again", timeout: 60) {
                try await sql(f.database, "SELECT COUNT(*) FROM event WHERE job_id = \(brokenID) AND type = 'job.failed'") == [["2"]]
            }
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE job_id = \(brokenID) AND type = 'job.queued'") == [["2"]])
            try await waitUntil("the source is back in the failed folder") { f.exists(f.failed, "broken.mp4") }
            #expect(!f.exists(f.inbox, "broken.mp4"))
            #expect(try await jobs(f.config).count == 3)

            let cancel = try await watchfolder("cancel", "\(brokenID)", "--config", f.config.path)
            #expect(cancel.status == 1 && cancel.stderr.split(separator: "\n").count == 1)
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    @Test func aSlowWriterIsTakenOnceItsUploadIsComplete() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, settle: 1.5)
            let daemon = try await DaemonProcess.start(config: f.config)
            let data = try Data(contentsOf: try await Clips.shared())
            let target = f.inbox.appendingPathComponent("slow.mp4")
            let chunk = data.count / 4 + 1
            // The writer keeps its own pace (a chunk every 0.7 s, under the 1.5 s settle window) on a thread of its
            // own; the checks run beside it, so a slow `watchfolder jobs` cannot stretch a pause past the window.
            let finished = WriterFinished()
            let written = Task {
                defer { finished.flag.store(true, ordering: .releasing) }
                try await offPool {
                    for start in stride(from: 0, to: data.count, by: chunk) {
                        // Like an SMB client: open, write a chunk, close, pause, reopen.
                        if !FileManager.default.fileExists(atPath: target.path) {
                            _ = FileManager.default.createFile(atPath: target.path, contents: nil)
                        }
                        let handle = try FileHandle(forWritingTo: target)
                        try handle.seekToEnd()
                        try handle.write(contentsOf: data[start..<min(start + chunk, data.count)])
                        try handle.close()
                        usleep(700_000)
                    }
                }
            }
            var early: [[String: Any]] = []
            while true {
                let seen = try await jobs(f.config)
                // A job seen while the writer still runs was created before the upload was complete (the last
                // write is followed by a 0.7 s pause, well inside the settle window).
                guard !finished.flag.load(ordering: .acquiring) else { break }
                if !seen.isEmpty { early = seen }
                try await Task.sleep(for: .milliseconds(200))
            }
            try await written.value
            #expect(early.isEmpty, "a job was created before the upload was complete: \(early)")
            try await waitUntil("the upload completed", timeout: 90) { try await states(f.config) == ["slow.mp4": "completed"] }
            #expect(f.packages() == ["slow"])
            #expect(try Data(contentsOf: f.archive.appendingPathComponent("slow.mp4")) == data)
            #expect(await daemon.stop() == 0)
        }
    }

    @Test func killDashNineDuringATranscodeLeavesExactlyOnePackage() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, preset: "medium", ladderHeight: 360)
            var daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(await Clips.long(), at: f.inbox.appendingPathComponent("long.mp4"))
            try await waitUntilTranscodeIsUnderWay(f.config)
            #expect(!f.tree(f.work).isEmpty)
            await daemon.stop(SIGKILL)
            #expect(try await states(f.config) == ["long.mp4": "running"])

            // The second attempt may be quick (options are read at each attempt): "medium" was only to catch the first.
            let config = try String(contentsOf: f.config, encoding: .utf8)
            try config.replacingOccurrences(of: "preset = \"medium\"", with: "preset = \"ultrafast\"")
                .write(to: f.config, atomically: true, encoding: .utf8)
            daemon = try await DaemonProcess.start(config: f.config)
            try await waitUntil("the job completed after the restart", timeout: 180) { try await states(f.config) == ["long.mp4": "completed"] }
            #expect(await daemon.stop() == 0)
            #expect(f.packages() == ["long"])
            #expect(f.tree(f.outbox).allSatisfy { !$0.contains("wf-partial") })
            #expect(f.tree(f.work).isEmpty)
            let job = try #require(try await jobs(f.config).first)
            #expect(job["attempts"] as? Int == 2)
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.completed'") == [["1"]])
            #expect(f.exists(f.archive, "long.mp4"))
        }
    }

    /// A node frozen mid-transcode (SIGSTOP) for longer than its lease, whose job another node took over meanwhile
    /// (here the test, through the store, as `node-b`): woken (SIGCONT), it stops the job at once and writes nothing
    /// for it: no progress, no package, no `job.completed`. It keeps working on other files.
    @Test func aFrozenNodeWhoseLeaseMovedPublishesNothingWhenItWakes() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, state: "node = \"node-a\"\nlease_seconds = 3", preset: "medium", ladderHeight: 360)
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(await Clips.long(), at: f.inbox.appendingPathComponent("long.mp4"))
            try await waitUntilTranscodeIsUnderWay(f.config)
            let first = try #require(try await jobs(f.config).first)
            #expect(first["node"] as? String == "node-a")
            let nodes = try await watchfolder("nodes", "--json", "--config", f.config.path)
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(nodes.stdout.utf8)) as? [[String: Any]])
            #expect(listed.count == 1 && listed.first?["name"] as? String == "node-a" && listed.first?["state"] as? String == "up")
            #expect(listed.first?["running"] as? [Int] == [first["id"] as? Int ?? 0])

            daemon.process.signal(SIGSTOP)
            let id = first["id"] as? Int ?? 0
            // Another node takes the job over once node-a's lease has run out (what `takeOver` does, in SQL: only while
            // the lease is the one that ran out), with a lease that outlives the test.
            let takeOver = """
                UPDATE job SET node = 'node-b', lease_token = 4242,
                  lease_expires_at = strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 hour')
                WHERE id = \(id) AND state = 'running' AND node = 'node-a'
                  AND lease_expires_at < strftime('%Y-%m-%d %H:%M:%f', 'now') RETURNING id
                """
            try await waitUntil("node-a's lease runs out and node-b takes the job", timeout: 30) {
                try await sql(f.database, takeOver) == [["\(id)"]]
            }
            let events = try await sql(f.database, "SELECT COUNT(*) FROM event")
            daemon.process.signal(SIGCONT)
            // Woken, it finds its last renewal older than the lease (the watchdog), or its lease moved (the heartbeat).
            try await waitUntil("node-a stops the job", timeout: 30) { (daemon.stdout + daemon.stderr).contains("job stopped: its lease") }
            // Time for a build that was not stopped to reach publishing (the preset makes this one take longer).
            try await Task.sleep(for: .seconds(2))
            #expect(try await sql(f.database, "SELECT state, node, lease_token FROM job WHERE id = \(id)") == [["running", "node-b", "4242"]])
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event") == events, "node-a wrote no event after SIGCONT")
            #expect(f.packages().isEmpty)

            // Still at work on other files.
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("next.mp4"))
            try await waitUntil("the next file completes", timeout: 120) { try await states(f.config)["next.mp4"] == "completed" }
            #expect(f.packages() == ["next"])
            #expect(await daemon.stop() == 0)
            let gone = try await watchfolder("nodes", "--json", "--config", f.config.path)
            #expect(gone.stdout.contains(#""state" : "gone""#), "\(gone.stdout)")
        }
    }

    @Test func cancelStopsARunningJobAndSIGTERMRequeuesOne() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, preset: "medium", ladderHeight: 360)
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(await Clips.long(), at: f.inbox.appendingPathComponent("long.mp4"))
            try await waitUntil("the transcode is running", timeout: 60) { try await states(f.config) == ["long.mp4": "running"] }
            let id = try #require(try await jobs(f.config).first?["id"] as? Int)
            let cancel = try await watchfolder("cancel", "\(id)", "--config", f.config.path)
            let requested = Date()  // the CLI has committed the request
            #expect(cancel.status == 0)
            try await waitUntil("the job is cancelled", timeout: 10) { try await states(f.config) == ["long.mp4": "cancelled"] }
            // The daemon sees the CLI's commit by watching the database, not by polling: the job stops within 1 s.
            let finished = try #require(finishedAt(try await jobs(f.config).first))
            #expect(finished.timeIntervalSince(requested) < 1, "cancelled \(finished.timeIntervalSince(requested)) s after the request")
            #expect(f.exists(f.inbox, "long.mp4") && f.packages().isEmpty)
            try await waitUntil("the work folder is gone", timeout: 5) { f.tree(f.work).isEmpty }

            // Requeue it, then stop the daemon while it runs: the job goes back to the queue, attempt refunded.
            #expect(try await watchfolder("retry", "\(id)", "--config", f.config.path).status == 0)
            try await waitUntil("the retried job runs", timeout: 30) { try await states(f.config) == ["long.mp4": "running"] }
            let stopped = Date()
            #expect(await daemon.stop(SIGTERM) == 0)
            #expect(Date().timeIntervalSince(stopped) < 15)
            let job = try #require(try await jobs(f.config).first)
            #expect(job["state"] as? String == "queued" && job["attempts"] as? Int == 0)
            #expect(f.tree(f.work).isEmpty)
        }
    }

    /// Nothing polls the store: an idle daemon runs no statement on it but its heartbeat, once every third of
    /// `lease_seconds` (here an hour: `watchfolder_store_statements_total` moves only by the scrape's own reads), and
    /// `watchfolder retry` from another process still wakes it at once.
    @Test func anIdleDaemonRunsNoStoreStatementsAndStillSeesTheCLI() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, state: "lease_seconds = 3600")
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("a.mp4"))
            try Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: f.inbox.appendingPathComponent("broken.mp4"))
            try await waitUntil("the jobs end", timeout: 60) {
                try await states(f.config) == ["a.mp4": "completed", "broken.mp4": "failed"]
            }
            try await waitUntil("their sources are moved", timeout: 10) { f.exists(f.archive, "a.mp4") && f.exists(f.failed, "broken.mp4") }
            let statements = try await daemon.storeStatementsWhileIdle()
            #expect(statements.scrape > 0)
            #expect(statements.idle == 0, "\(statements.idle) statements in 3 idle seconds")

            // The CLI's retry wakes the idle daemon through its watch of the database: the source comes back from
            // failed/ and the job fails once more.
            let id = try #require(try await jobs(f.config).first { $0["source"] as? String == "broken.mp4" }?["id"] as? Int)
            let retry = try await watchfolder("retry", "\(id)", "--config", f.config.path)
            #expect(retry.status == 0, "\(retry.stderr)")
            try await waitUntil("the retried job failed again", timeout: 10) {
                try await sql(f.database, "SELECT COUNT(*) FROM event WHERE job_id = \(id) AND type = 'job.failed'") == [["2"]]
            }
            #expect(await daemon.stop() == 0)
        }
    }

    @Test func sighupReloadsTheConfigWithoutDroppingJobs() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let daemon = try await DaemonProcess.start(config: f.config)
            var text = try String(contentsOf: f.config, encoding: .utf8)
            text = text.replacingOccurrences(of: "[transcode]\n", with: "[transcode]\nconcurrency = 2\n")
            text += "\n[log]\nlevel = \"debug\"\n"
            try text.write(to: f.config, atomically: true, encoding: .utf8)
            kill(daemon.process.processIdentifier, SIGHUP)
            try await waitUntil("the config is reloaded", timeout: 10) {
                daemon.stderr.contains("configuration reloaded") && daemon.stderr.contains("wf.concurrency=2")
            }
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("after.mp4"))
            try await waitUntil("a file dropped after the reload completes", timeout: 60) {
                try await states(f.config) == ["after.mp4": "completed"]
            }
            #expect(daemon.isRunning)
            #expect(await daemon.stop() == 0)
        }
    }
}

extension DaemonTests {
    /// `poll_seconds > 0` forces polling (no inotify at all): files are still found, within the poll interval.
    @Test func pollingModeFindsFilesWithoutInotify() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, settle: 0.5, inbox: "poll_seconds = 1")
            let daemon = try await DaemonProcess.start(config: f.config)
            try await waitUntil("intake says it polls", timeout: 10) { daemon.stderr.contains("intake polling the inbox") }
            try FileManager.default.createDirectory(at: f.inbox.appendingPathComponent("polled"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: try await Clips.shared(), to: f.inbox.appendingPathComponent("polled/p.mp4"))
            try await waitUntil("the polled file completed", timeout: 60) { try await states(f.config) == ["polled/p.mp4": "completed"] }
            #expect(!daemon.stderr.contains("intake watching the inbox with inotify"))
            #expect(f.packages() == ["p"])
            #expect(await daemon.stop() == 0)
        }
    }

    /// The engine's own log lines for a job (here its debug line naming the encoder and rungs) carry the job's id,
    /// like the scheduler's, so one `wf.job.id` finds everything a job logged.
    @Test func engineLinesCarryTheJobID() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, extra: "[log]\nlevel = \"debug\"\n")
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("logged.mp4"))
            try await waitUntil("the job completed", timeout: 60) { try await states(f.config) == ["logged.mp4": "completed"] }
            let id = try #require(try await jobs(f.config).first?["id"] as? Int)
            let engine = daemon.stderr.split(separator: "\n").filter { $0.contains(" transcoding") && $0.contains("wf.encoder=") }
            #expect(engine.count == 1, "\(daemon.stderr)")
            #expect(engine.allSatisfy { $0.contains("wf.job.id=\(id) ") }, "\(engine)")
            #expect(await daemon.stop() == 0)
        }
    }

    /// A second `watchfolder run` on the same state folder refuses to start, in one line naming the first one's
    /// pid, and leaves the first one's running job alone (it used to "recover" it: requeue it and run it again).
    @Test func aSecondDaemonOnTheSameStateRefusesAndTakesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, preset: "medium", ladderHeight: 360)
            let first = try await DaemonProcess.start(config: f.config)
            try Clips.drop(await Clips.long(), at: f.inbox.appendingPathComponent("long.mp4"))
            try await waitUntil("the transcode is running", timeout: 60) { try await states(f.config) == ["long.mp4": "running"] }

            let second = try await watchfolder("run", "--config", f.config.path)
            #expect(second.status == 1)
            let state = f.root.appendingPathComponent("state").path
            #expect(second.stderr == "watchfolder: another watchfolder (pid \(first.process.processIdentifier)) is running with \(state)\n")
            let job = try #require(try await jobs(f.config).first)
            #expect(job["state"] as? String == "running" && job["attempts"] as? Int == 1)
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.started'") == [["1"]])
            #expect(first.isRunning)

            // The lock goes with the process, however it ends: after a kill -9 the next daemon starts.
            await first.stop(SIGKILL)
            let next = try await DaemonProcess.start(config: f.config)
            try await waitUntil("the job is taken back and runs again", timeout: 30) {
                try await jobs(f.config).first?["attempts"] as? Int == 2
            }
            #expect(await next.stop() == 0)
        }
    }

    /// The job store stops answering mid-transcode (another process holds its write lock longer than a lease): the
    /// daemon stops the job before its lease ends, says so, and once the store answers again takes the job back as
    /// any node would (its lease ran out): one package, one `job.completed`, the attempt counted.
    @Test func aStoreThatStopsAnsweringStopsTheJobBeforeItsLeaseEndsAndLosesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, state: "lease_seconds = 3", preset: "medium", ladderHeight: 360)
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(await Clips.long(), at: f.inbox.appendingPathComponent("long.mp4"))
            try await waitUntilTranscodeIsUnderWay(f.config)
            // Python's sqlite3 takes the write lock and keeps it 8 s: every write of the daemon waits, then fails.
            let hold = """
                import sqlite3, sys, time
                con = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
                con.execute("BEGIN EXCLUSIVE")
                time.sleep(8)
                con.execute("COMMIT")
                """
            let held = ContinuousClock.now
            let holder = Task { try await tool("python3", ["-c", hold, f.database.path], timeout: 60) }
            try await waitUntil("the daemon stops the job", timeout: 30) {
                (daemon.stdout + daemon.stderr).contains("its lease could not be renewed before it ended")
            }
            #expect(ContinuousClock.now - held < .seconds(8), "stopped while the store was still locked")
            #expect(try await holder.value.status == 0)
            try await waitUntil("the job completes after the store answers again", timeout: 180) {
                try await states(f.config) == ["long.mp4": "completed"]
            }
            #expect(f.packages() == ["long"])
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.completed'") == [["1"]])
            #expect(try await jobs(f.config).first?["attempts"] as? Int == 2)
            #expect(await daemon.stop() == 0)
        }
    }

    /// A store migrated by a newer watchfolder (its schema version, `PRAGMA user_version`, above this binary's) is
    /// refused by the daemon and the CLI with one line that says what to do; nothing is written to it.
    @Test func aBinaryOlderThanTheStoresSchemaRefusesIt() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            #expect(try await watchfolder("jobs", "--config", f.config.path).status == 0)  // creates and migrates the store
            let version = try #require(try await sql(f.database, "PRAGMA user_version").first?.first.flatMap { Int($0) })
            #expect(version > 0)
            _ = try await sql(f.database, "PRAGMA user_version = \(version + 1)")
            let expected = "watchfolder: the job store \(f.database.path) has schema version \(version + 1), written by a newer "
            for command in [["run"], ["jobs"], ["nodes"], ["webhooks"]] {
                let result = try await runProcess(watchfolderBinary, command + ["--config", f.config.path], timeout: 60)
                #expect(result.status == 1, "\(command)")
                #expect(result.stderr.hasPrefix(expected) && result.stderr.hasSuffix(": upgrade it before it uses this store\n"),
                        "\(command): \(result.stderr)")
                #expect(result.stderr.filter { $0 == "\n" }.count == 1)
            }
            #expect(try await sql(f.database, "PRAGMA user_version") == [["\(version + 1)"]])
        }
    }
}

/// Set once a test's writer thread is done.
final class WriterFinished: Sendable {
    let flag = Atomic<Bool>(false)
}
