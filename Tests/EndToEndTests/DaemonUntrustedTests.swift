import Foundation
import TestSupport
import Testing

/// The daemon against uploads that are not what they seem: disguised playlists, files swapped after they were
/// recorded, sources rewritten while read, and a share that hangs mid-read.
@Suite(.serialized) struct DaemonUntrustedTests {
    @Test func playlistsInDisguiseFailWithTheirReasonAndNothingTheyNameIsRead() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, transcode: "max_attempts = 1")
            let named = dir.appendingPathComponent("named")
            try FileManager.default.createDirectory(at: named, withIntermediateDirectories: true)
            let target = named.appendingPathComponent("other.mp4")
            try FileManager.default.copyItem(at: try await Clips.shared(), to: target)
            let untouchable = try Untouchable(target)
            let daemon = try await DaemonProcess.start(config: f.config)
            let staging = dir.appendingPathComponent("staging")
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            for disguise in Disguise.allCases {
                let file = try disguise.write(in: staging, target: target, relative: "../named/other.mp4")
                try Clips.drop(file, at: f.inbox.appendingPathComponent(disguise.fileName))
            }
            let expected = Dictionary(uniqueKeysWithValues: Disguise.allCases.map { ($0.fileName, "failed") })
            try await waitUntil("every disguise failed", timeout: 60) { try await states(f.config) == expected }
            for job in try await jobs(f.config) {
                let disguise = try #require(Disguise.allCases.first { $0.fileName == job["source"] as? String })
                #expect(job["error"] as? String == disguise.refusal)
                try await waitUntil("\(disguise.fileName) is in the failed folder") { f.exists(f.failed, disguise.fileName) }
                let note = try String(contentsOf: f.failed.appendingPathComponent(disguise.fileName + ".error.txt"), encoding: .utf8)
                #expect(note.contains("reason: \(disguise.refusal)"))
            }
            #expect(f.packages().isEmpty)
            #expect(daemon.isRunning)
            untouchable.expectUnread("the daemon")
            #expect(await daemon.stop() == 0)
        }
    }

    @Test func aSymlinkAFolderOrAnotherFileSwappedInAfterQueuingIsNotRead() async throws {
        try await withTemporaryDirectory { dir in
            // settle_seconds = 8: intake records the swapped-in file only after the job recorded before it has tried it
            // (a file replaced while its job is still queued is the job's file: the job follows it).
            let f = try DaemonFolders(root: dir, settle: 8, transcode: "max_attempts = 1", preset: "veryslow", ladderHeight: 360)
            let secret = dir.appendingPathComponent("secret.mp4")
            try FileManager.default.copyItem(at: try await Clips.shared(), to: secret)
            let staged = dir.appendingPathComponent("staged")
            try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
            let replacement = staged.appendingPathComponent("other.mp4")
            try await Fixtures.clip(replacement, seconds: 1, width: 320, height: 180, rate: 30)
            try FileManager.default.createSymbolicLink(at: staged.appendingPathComponent("link.mp4"), withDestinationURL: secret)
            let daemon = try await DaemonProcess.start(config: f.config)
            // A long job (cancelled below) holds the only worker while the others wait in the queue. It runs before they
            // are dropped: files that settle together are not recorded in the order they were dropped.
            try Clips.drop(await Clips.long(), at: f.inbox.appendingPathComponent("0-blocker.mp4"))
            try await waitUntil("the blocker runs", timeout: 60) { try await states(f.config)["0-blocker.mp4"] == "running" }
            for name in ["link.mp4", "folder.mp4", "other.mp4"] {
                try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent(name))
            }
            var seen: [String: String] = [:]
            do {
                try await waitUntil("the blocker runs and the three are queued", timeout: 60) {
                    let s = try await states(f.config)
                    seen = s
                    return s["0-blocker.mp4"] == "running" && ["link.mp4", "folder.mp4", "other.mp4"].allSatisfy { s[$0] == "queued" }
                }
            } catch {
                throw Timeout(description: "\(error); last states \(seen); daemon log:\n\(daemon.stderr.suffix(4000))")
            }
            // The swaps: each by a rename over the recorded name, as an SFTP client would.
            #expect(rename(staged.appendingPathComponent("link.mp4").path, f.inbox.appendingPathComponent("link.mp4").path) == 0)
            try FileManager.default.removeItem(at: f.inbox.appendingPathComponent("folder.mp4"))
            try FileManager.default.createDirectory(at: f.inbox.appendingPathComponent("folder.mp4"), withIntermediateDirectories: false)
            #expect(rename(replacement.path, f.inbox.appendingPathComponent("other.mp4").path) == 0)
            let swappedIn = f.inbox.appendingPathComponent("other.mp4")
            let untouchableSecret = try Untouchable(secret)
            let untouchableReplacement = try Untouchable(swappedIn)

            let blocker = try #require(try await jobs(f.config).first { $0["source"] as? String == "0-blocker.mp4" }?["id"] as? Int)
            #expect(try await watchfolder("cancel", "\(blocker)", "--config", f.config.path).status == 0)
            do {
                try await waitUntil("the swapped files' jobs failed", timeout: 30) {
                    let s = try await states(f.config)
                    seen = s
                    return ["link.mp4", "folder.mp4", "other.mp4"].allSatisfy { s[$0] == "failed" }
                }
            } catch {
                throw Timeout(description: "\(error); last states \(seen); daemon log:\n\(daemon.stderr.suffix(4000))")
            }
            untouchableReplacement.expectUnread("the job recorded before the swap")
            untouchableSecret.expectUnread("the symlink's job")
            let errors = Dictionary(try await jobs(f.config).map { ($0["source"] as? String ?? "", $0["error"] as? String ?? "") }) { a, _ in a }
            #expect(errors["link.mp4"] == "link.mp4: refused: a symbolic link on its path (links are not followed)")
            #expect(errors["folder.mp4"] == "folder.mp4: not a regular file (a folder); it was not read")
            #expect(errors["other.mp4"] == "other.mp4: the source changed since it was recorded (replaced or rewritten); it was not read")
            #expect(f.packages().isEmpty)
            // The symlink and the folder stay where they are; the new upload is recorded as a job of its own once it
            // settles, and that one is transcoded.
            var st = stat()
            #expect(lstat(f.inbox.appendingPathComponent("link.mp4").path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK)
            try await waitUntil("the new upload's own job completes", timeout: 60) {
                try await jobs(f.config).contains { $0["source"] as? String == "other.mp4" && $0["state"] as? String == "completed" }
            }
            #expect(daemon.isRunning)
            #expect(await daemon.stop() == 0)
        }
    }

    @Test func aSourceRewrittenWhileItIsReadCannotCrashTheDaemon() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, transcode: "max_attempts = 1", preset: "medium", ladderHeight: 360)
            let daemon = try await DaemonProcess.start(config: f.config)
            let source = f.inbox.appendingPathComponent("moving.mp4")
            try Clips.drop(await Clips.long(), at: source)
            try await waitUntil("the job starts", timeout: 60) { try await states(f.config)["moving.mp4"] == "running" }
            // From the probe on, the file is rewritten in place: garbage over its index and data, shorter, longer.
            let size = fileSize(source)
            var rng = SystemRandomNumberGenerator()
            let handle = try FileHandle(forWritingTo: source)
            for round in 0..<60 {
                let offset = UInt64.random(in: 0..<UInt64(size), using: &rng)
                try handle.seek(toOffset: offset)
                try handle.write(contentsOf: Data((0..<65_536).map { _ in UInt8.random(in: 0...255, using: &rng) }))
                if round % 20 == 10 { try handle.truncate(atOffset: UInt64(size / 3)) }
                try await Task.sleep(for: .milliseconds(50))
            }
            try handle.close()
            try await waitUntil("the job ended", timeout: 120) {
                try await jobs(f.config).filter { $0["source"] as? String == "moving.mp4" }.allSatisfy {
                    ["failed", "completed"].contains($0["state"] as? String ?? "")
                }
            }
            #expect(daemon.isRunning)
            try Clips.drop(await Clips.shared(), at: f.inbox.appendingPathComponent("after.mp4"))
            try await waitUntil("a later upload completes", timeout: 60) { try await states(f.config)["after.mp4"] == "completed" }
            #expect(await daemon.stop() == 0)
        }
    }
}

extension DaemonUntrustedTests {
    /// A FUSE share (Tests/Peers/stall_fs.py) whose reads hang past 60 % of the file, mounted as the inbox. A thread
    /// blocked in such a read cannot be killed (the kernel waits for the filesystem's answer), so a process that had
    /// one is reaped only once the share is unmounted.
    struct HangingShare {
        let peer: ServerProcess
        let mountpoint: URL
        let marker: URL

        init(at mountpoint: URL, serving source: URL, as name: String, log: URL) async throws {
            try FileManager.default.createDirectory(at: mountpoint, withIntermediateDirectories: true)
            self.mountpoint = mountpoint
            marker = log.deletingLastPathComponent().appendingPathComponent("blocked-reads")
            _ = FileManager.default.createFile(atPath: marker.path, contents: nil)
            peer = try ServerProcess("/usr/bin/python3", [
                packageRoot.appendingPathComponent("Tests/Peers/stall_fs.py").path, mountpoint.path, name, source.path,
                String(fileSize(source) * 3 / 5), marker.path,
            ], log: log)
            let file = mountpoint.appendingPathComponent(name)
            try await waitUntil("the share is mounted (log: \(log.path))", timeout: 30) { FileManager.default.fileExists(atPath: file.path) }
        }

        /// Reads that have blocked so far.
        var blockedReads: Int { ((try? String(contentsOf: marker, encoding: .utf8)) ?? "").split(separator: "\n").count }

        func unmount() async throws {
            _ = try await tool("umount", ["-l", mountpoint.path])
            try await offPool { peer.stop() }
        }
    }

    /// A read that never returns (a hung network share) ends the job by `watchfolder cancel`, by SIGTERM and by the
    /// stall bound. Cancel and SIGTERM are tried under a stall bound far beyond their bounds (so only abandoning the
    /// read can meet them); the stall bound then by a second daemon with `stall_seconds = 4`.
    @Test func cancelSIGTERMAndTheStallBoundReachAJobStuckInAReadThatBlocks() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, inbox: "poll_seconds = 1", transcode: "max_attempts = 2",
                                      extra: "[limits]\nstall_seconds = 120\n")
            // Index first (faststart): the probe reads the head (the first ~6 s); the transcode hangs at 60 %.
            let clip = dir.appendingPathComponent("clip.mp4")
            try await Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=20", "-c:v", "libx264",
                                       "-preset", "ultrafast", "-movflags", "+faststart", clip.path])
            try FileManager.default.removeItem(at: f.inbox)
            let share = try await HangingShare(at: f.inbox, serving: clip, as: "hang.mp4", log: dir.appendingPathComponent("stall_fs.log"))
            var daemons = [try await DaemonProcess.start(config: f.config)]
            do {
                try await cancelAndStop(f, share, daemons[0])
                let config = try String(contentsOf: f.config, encoding: .utf8)
                try config.replacingOccurrences(of: "stall_seconds = 120", with: "stall_seconds = 4")
                    .write(to: f.config, atomically: true, encoding: .utf8)
                daemons.append(try await DaemonProcess.start(config: f.config))
                // No decoding progress for stall_seconds: the attempt fails with `stalled` (and is retried).
                try await waitUntil("the attempt stalls", timeout: 60) {
                    try await jobs(f.config).first?["error"] as? String == "hang.mp4: stalled: nothing decoded for 4 s (stall_seconds)"
                }
            } catch {
                try await share.unmount()
                for daemon in daemons { await daemon.stop(SIGKILL) }
                let logs = daemons.map(\.stderr).joined(separator: "\n-- the next daemon:\n")
                Issue.record("the daemons' logs:\n\(logs)")
                throw error
            }
            try await share.unmount()
            for daemon in daemons {
                #expect(await daemon.stop(SIGTERM) == 0, "the daemon exits once its abandoned reads return")
            }
        }
    }

    private func cancelAndStop(_ f: DaemonFolders, _ share: HangingShare, _ daemon: DaemonProcess) async throws {
        // `watchfolder cancel` reaches the job stuck in its read.
        var blocked = share.blockedReads
        try await waitUntil("the job is stuck in a read", timeout: 60) {
            let state = try await states(f.config)["hang.mp4"]
            return share.blockedReads > blocked && state == "running"
        }
        let id = try #require(try await jobs(f.config).first?["id"] as? Int)
        let cancelled = Date()
        #expect(try await watchfolder("cancel", "\(id)", "--config", f.config.path).status == 0)
        try await waitUntil("the job is cancelled", timeout: 60) { try await states(f.config)["hang.mp4"] == "cancelled" }
        #expect(Date().timeIntervalSince(cancelled) < 30, "cancelled after \(Date().timeIntervalSince(cancelled)) s")

        // SIGTERM reaches it too: the daemon stops after the grace period (1 s), the job requeued. (Its process is
        // reaped once the read it gave up on returns: when the share goes away.)
        blocked = share.blockedReads
        #expect(try await watchfolder("retry", "\(id)", "--config", f.config.path).status == 0)
        try await waitUntil("the job is stuck in a read again", timeout: 30) {
            let state = try await states(f.config)["hang.mp4"]
            return share.blockedReads > blocked && state == "running"
        }
        let stopped = Date()
        kill(daemon.process.processIdentifier, SIGTERM)
        try await waitUntil("the daemon stopped", timeout: 60) { daemon.stderr.contains("watchfolder stopped") }
        #expect(Date().timeIntervalSince(stopped) < 30, "stopped after \(Date().timeIntervalSince(stopped)) s")
        #expect(try await states(f.config)["hang.mp4"] == "queued")
    }
}
