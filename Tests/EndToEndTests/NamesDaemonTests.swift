import Foundation
import TestSupport
import Testing

/// The real daemon, traced and killed by `strace`: what reaches the disk before what (the Maildir rule), kill -9
/// between the reservation of a package's name and the job's completion, the CLI's retry when the inbox name is
/// taken, and file names that try to forge log lines.
@Suite(.serialized) struct NamesDaemonTests {
    /// `strace` with `arguments`, ahead of the daemon's command line.
    private func strace(_ arguments: [String]) throws -> [String] {
        [try installedTool("strace").path] + arguments
    }

    /// Where the kill lands: on entering the rename that claims the outbox name (the name is recorded in the
    /// store, the package still in the work folder), or on the fsync of the outbox that follows that rename.
    enum KillPoint: String, CaseIterable, Sendable {
        case atTheRename, afterTheRename
    }

    @Test func aPackageIsOnDiskBeforeItIsRenamedIntoPlaceAndTheStoreRecordsItAfterward() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let trace = dir.appendingPathComponent("trace.txt")
            let daemon = try await DaemonProcess.start(config: f.config, wrapper: try strace([
                "-f", "-y", "-qq", "-o", trace.path, "-e", "trace=fsync,fdatasync,syncfs,rename,renameat,renameat2,link,linkat",
            ]))
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("clip.mp4"))
            try await waitUntil("the job completed", timeout: 120) { try await states(f.config) == ["clip.mp4": "completed"] }
            try await waitUntil("the source is archived") { f.exists(f.archive, "clip.mp4") }
            if let pid = daemon.daemonPID { kill(pid, SIGTERM) }
            #expect(await daemon.waitForExit() == 0)

            let lines = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n").map(String.init)
            func first(after start: Int, _ matches: (String) -> Bool) -> Int? {
                lines.indices.first { $0 > start && matches(lines[$0]) }
            }
            func isSync(_ line: String, _ path: String) -> Bool {
                (line.contains(" fsync(") || line.contains(" fdatasync(")) && line.contains("<\(path)>")
            }
            let work = f.work.path + "/1/package", outbox = f.outbox.path, clip = outbox + "/clip"
            let wal = dir.appendingPathComponent("state/watchfolder.sqlite-wal").path
            // 1. Every file of the package is fsynced, then the package is renamed into the outbox without replacing.
            let rename = try #require(first(after: -1) {
                $0.contains("renameat2(") && $0.contains("\"\(work)\"") && $0.contains("\"\(clip)\"")
                    && $0.contains("RENAME_NOREPLACE") && $0.hasSuffix("= 0")
            }, "no renameat2 of the package in the trace:\n\(lines.suffix(40).joined(separator: "\n"))")
            let files = f.tree(f.outbox.appendingPathComponent("clip")).filter {
                !FileManager.default.isDirectory(f.outbox.appendingPathComponent("clip/\($0)"))
            }
            #expect(files.contains("manifest.json") && files.contains { $0.hasSuffix(".ts") })
            for file in files {
                #expect(lines[..<rename].contains { isSync($0, "\(work)/\(file)") }, "\(file) was not fsynced before the rename")
            }
            // 2. The outbox folder is fsynced after the rename, 3. then the store's commit is synced (completed).
            let outboxSync = try #require(first(after: rename) { isSync($0, outbox) }, "the outbox was not fsynced after the rename")
            let committed = try #require(first(after: outboxSync) { isSync($0, wal) }, "no WAL sync after the outbox fsync")
            // 4. The archive move follows the commit, is fsynced (archive, then inbox), and is recorded after that.
            let archive = try #require(first(after: committed) {
                $0.contains("renameat2(") && $0.contains("\"\(f.inbox.path)/clip.mp4\"") && $0.contains("\"\(f.archive.path)/clip.mp4\"")
            }, "the source was not moved to the archive after the completion was committed:\n\(lines[rename...].joined(separator: "\n"))")
            let archiveSync = try #require(first(after: archive) { isSync($0, f.archive.path) })
            let inboxSync = try #require(first(after: archiveSync) { isSync($0, f.inbox.path) })
            #expect(first(after: inboxSync) { isSync($0, wal) } != nil, "the archive move was not recorded after its fsyncs")
        }
    }

    @Test(arguments: KillPoint.allCases)
    func killDashNineBetweenReservationAndCompletionLeavesOnePackageAndOneCompletion(at point: KillPoint) async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let clip = f.outbox.appendingPathComponent("clip").path
            let inject: [String] = switch point {
            case .atTheRename: ["-P", f.work.path + "/1/package", "-e", "trace=renameat2", "-e", "inject=renameat2:signal=KILL"]
            case .afterTheRename: ["-P", f.outbox.path, "-e", "trace=fsync", "-e", "inject=fsync:signal=KILL"]
            }
            let killed = try await DaemonProcess.start(config: f.config, wrapper: try strace(["-f", "-qq", "-o", "/dev/null"] + inject))
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("clip.mp4"))
            let status = await killed.waitForExit(timeout: 120)
            #expect(status == SIGKILL && killed.process.terminationReason == .uncaughtSignal,
                    "the daemon was not killed (status \(status.map(String.init) ?? "running"))")

            // The reservation is recorded; the job is not completed.
            let row = try await sql(f.database, "SELECT state, output_location FROM job")
            #expect(row == [["publishing", clip]])
            #expect(FileManager.default.fileExists(atPath: clip) == (point == .afterTheRename))

            let daemon = try await DaemonProcess.start(config: f.config)
            try await waitUntil("the job completed after the restart", timeout: 120) { try await states(f.config) == ["clip.mp4": "completed"] }
            try await waitUntil("the source is archived") { f.exists(f.archive, "clip.mp4") }
            #expect(await daemon.stop() == 0)
            #expect(f.packages() == ["clip"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: f.outbox.path) == ["clip"])
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: clip + "/manifest.json"))) as? [String: Any]
            #expect(manifest?["job_id"] as? Int == 1)
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.completed'") == [["1"]])
            #expect(try await sql(f.database, "SELECT output_location, attempts FROM job") == [[clip, "1"]])
            #expect(f.tree(f.work).isEmpty && f.tree(f.inbox).isEmpty)
        }
    }

    @Test func retryWhoseInboxNameIsTakenRestoresUnderTheJobsIDAndSaysSo() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, transcode: "max_attempts = 1")
            var daemon = try await DaemonProcess.start(config: f.config)
            try Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: f.inbox.appendingPathComponent("clip.mp4"))
            try await waitUntil("the broken upload failed", timeout: 60) { try await states(f.config) == ["clip.mp4": "failed"] }
            try await waitUntil("it is in the failed folder") { f.exists(f.failed, "clip.mp4") }
            #expect(await daemon.stop() == 0)

            // The uploader sends a good file under the same name; then the operator retries the failed job.
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("clip.mp4"))
            let retry = try await watchfolder("retry", "1", "--config", f.config.path)
            #expect(retry.status == 0, "\(retry.stderr)")
            #expect(retry.stdout == "job 1 requeued: clip.mp4 is taken in the inbox, so its source was restored as clip-1.mp4\n")
            #expect(f.tree(f.inbox) == ["clip-1.mp4", "clip.mp4"] && f.tree(f.failed).isEmpty)
            #expect(try await states(f.config) == ["clip-1.mp4": "queued"])

            daemon = try await DaemonProcess.start(config: f.config)
            try await waitUntil("the good upload completed and the retried job failed again", timeout: 120) {
                try await states(f.config) == ["clip.mp4": "completed", "clip-1.mp4": "failed"]
            }
            try await waitUntil("the files settled") { f.exists(f.failed, "clip-1.mp4") && f.exists(f.archive, "clip.mp4") }
            #expect(await daemon.stop() == 0)
            #expect(f.packages() == ["clip"])
            #expect(try await jobs(f.config).count == 2)
        }
    }

    @Test func aFileNameCannotForgeALogLine() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let daemon = try await DaemonProcess.start(config: f.config)
            let forged = "evil\n2026-01-01T00:00:00+0000 error watchfolder : [WatchFolder] forged.mp4"
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent(forged))
            try await waitUntil("the job completed", timeout: 120) { try await states(f.config) == [forged: "completed"] }
            #expect(await daemon.stop() == 0)
            let lines = daemon.stderr.split(separator: "\n")
            #expect(!lines.isEmpty && lines.allSatisfy { !$0.hasPrefix("2026-01-01T00:00:00") }, "\(lines)")
            #expect(daemon.stderr.contains(#"wf.job.file=evil\n2026-01-01T00:00:00+0000 error watchfolder : [WatchFolder] forged.mp4"#))
        }
    }
}

extension FileManager {
    func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
