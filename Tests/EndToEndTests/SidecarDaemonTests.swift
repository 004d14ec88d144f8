import Foundation
import TestSupport
import Testing

/// Sidecars beside a video in the inbox (`STEM.json`, `STEM[.LANG].srt/.vtt`), through a real `watchfolder run`.
@Suite(.serialized) struct SidecarDaemonTests {
    static let token = "sidecar-token-\(UUID().uuidString.prefix(8))"
    /// A customer's record, as a CMS would send it: nested, unicode, numbers of both kinds.
    static let metadata = #"{"cms_id": "A-1029", "title": "Fête – été", "season": 3, "rating": 4.5, "tags": ["a", "b"], "rights": {"territories": ["FR", "BE"], "until": null}}"#

    /// The metadata sidecar goes in before the video, an English subtitle just after it (within `settle_seconds`):
    /// the job waits for both, its metadata is in `manifest.json`, `jobs --json`, `GET /api/jobs/{id}` and every
    /// webhook's `data`, and both sidecars follow the video to the archive.
    @Test func sidecarsBeforeAndAfterTheVideoTravelWithTheJob() async throws {
        try await withTemporaryDirectory { dir in
            let secret = try await watchfolder("webhook-secret").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let receiver = try await WebhookReceiver(secret: secret, in: dir)
            let f = try DaemonFolders(root: dir, settle: 2,
                                      extra: "[[webhook]]\nurl = \"\(receiver.url)\"\nsecret = \"\(secret)\"\n")
            var text = try String(contentsOf: f.config, encoding: .utf8)
            text = text.replacingOccurrences(of: "listen = \"127.0.0.1:0\"", with: "listen = \"127.0.0.1:0\"\ntoken = \"\(Self.token)\"")
            try text.write(to: f.config, atomically: true, encoding: .utf8)
            let daemon = try await DaemonProcess.start(config: f.config)
            let root = try await daemon.dashboardRoot()

            try Data(Self.metadata.utf8).write(to: f.inbox.appendingPathComponent("clip.json"))
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("clip.mp4"))
            // The uploader sends the subtitle half a settle window after the video.
            try await Task.sleep(for: .seconds(1))
            let srt = "1\n00:00:00,000 --> 00:00:00,900\nHello\n"
            try Data(srt.utf8).write(to: f.inbox.appendingPathComponent("clip.en.srt"))

            try await waitUntil("the job completed", timeout: 120) { try await states(f.config) == ["clip.mp4": "completed"] }
            let expected = try Self.object(Data(Self.metadata.utf8))

            let manifest = try Self.object(Data(contentsOf: f.outbox.appendingPathComponent("clip/manifest.json")))
            #expect(Self.same(manifest["metadata"], expected))
            let sidecars = try #require(manifest["sidecars"] as? [[String: Any]])
            #expect(sidecars.map { $0["name"] as? String } == ["clip.en.srt", "clip.json"])
            #expect(sidecars.map { $0["kind"] as? String } == ["subtitles", "metadata"])
            #expect(sidecars.first?["language"] as? String == "en")
            #expect(sidecars.map { $0["bytes"] as? Int } == [srt.utf8.count, Self.metadata.utf8.count])

            let listed = try #require(try await jobs(f.config).first)
            #expect(Self.same(listed["metadata"], expected))

            let api = try await tool("curl", ["-s", "--max-time", "20", "-H", "Authorization: Bearer \(Self.token)", root + "/api/jobs/1"])
            #expect(Self.same(try Self.object(Data(api.stdout.utf8))["metadata"], expected), "\(api.stdout)")

            try await waitUntil("job.completed reached the receiver", timeout: 60) {
                receiver.received().contains { $0.type == "job.completed" }
            }
            let hooks = receiver.received()
            #expect(hooks.compactMap(\.type) == ["job.queued", "job.started", "job.completed"])
            for hook in hooks {
                #expect(Self.same((hook.body["data"] as? [String: Any])?["metadata"], expected), "\(hook.type ?? "?")")
            }

            try await waitUntil("the sidecars followed the video to the archive", timeout: 20) {
                f.tree(f.archive) == ["clip.en.srt", "clip.json", "clip.mp4"]
            }
            #expect(f.tree(f.inbox).isEmpty)
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    /// A `STEM.json` that is not JSON fails the job for good with one line naming it; the video and the sidecar land
    /// in the failed folder.
    @Test func aBrokenMetadataSidecarFailsTheJobAndGoesToFailedWithTheVideo() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let daemon = try await DaemonProcess.start(config: f.config)
            try Data(#"{"title": "unterminated"#.utf8).write(to: f.inbox.appendingPathComponent("bad.json"))
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("bad.mp4"))

            try await waitUntil("the job failed", timeout: 120) { try await states(f.config) == ["bad.mp4": "failed"] }
            let job = try #require(try await jobs(f.config).first)
            let error = try #require(job["error"] as? String)
            #expect(error == "metadata sidecar bad.json is not valid JSON")
            #expect(job["attempts"] as? Int == 1)
            try await waitUntil("the video and its sidecar are in the failed folder", timeout: 20) {
                f.tree(f.failed) == ["bad.json", "bad.mp4", "bad.mp4.error.txt"]
            }
            #expect(f.tree(f.inbox).isEmpty)
            #expect(f.packages().isEmpty)
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    /// A source with an embedded SubRip stream and sidecars in two languages, one sent before the video and one after:
    /// the package has three subtitle renditions in the master, their cues where they were put, and GStreamer plays it.
    @Test func embeddedSubtitlesAndSidecarsBecomeRenditions() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, settle: 2)
            let daemon = try await DaemonProcess.start(config: f.config)
            let srt = dir.appendingPathComponent("in.srt")
            try Data("1\n00:00:00,200 --> 00:00:00,800\nEmbedded\n".utf8).write(to: srt)
            let source = dir.appendingPathComponent("source.mkv")
            let made = try await tool("ffmpeg", [
                "-hide_banner", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2",
                "-f", "lavfi", "-i", "sine=duration=2", "-i", srt.path, "-map", "0", "-map", "1", "-map", "2",
                "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "srt", "-metadata:s:s:0", "language=eng",
                "-disposition:s:0", "0", source.path])
            #expect(made.status == 0, "\(made.stderr)")

            try Data("1\n00:00:00,500 --> 00:00:01,500\nBonjour\n".utf8).write(to: f.inbox.appendingPathComponent("film.fr.srt"))
            try Clips.drop(source, at: f.inbox.appendingPathComponent("film.mkv"))
            try await Task.sleep(for: .seconds(1))  // the uploader sends the second sidecar within the settle window
            try Data("WEBVTT\n\n00:01.000 --> 00:01.900\nOlá\n".utf8).write(to: f.inbox.appendingPathComponent("film.pt-BR.vtt"))

            try await waitUntil("the job completed", timeout: 120) { try await states(f.config) == ["film.mkv": "completed"] }
            let package = f.outbox.appendingPathComponent("film")
            let master = try String(contentsOf: package.appendingPathComponent("master.m3u8"), encoding: .utf8)
            #expect(master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-MEDIA:TYPE=SUBTITLES") } == [
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=NO,AUTOSELECT=YES,URI="subs_en/index.m3u8""#,
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="French",DEFAULT=NO,AUTOSELECT=YES,URI="subs_fr/index.m3u8""#,
                #"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="pt-BR",NAME="Portuguese",DEFAULT=NO,AUTOSELECT=YES,URI="subs_pt-BR/index.m3u8""#,
            ], "\(master)")
            #expect(master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF:") }.allSatisfy { $0.hasSuffix(#",SUBTITLES="subs""#) })
            for (folder, cue) in [("subs_en", "00:00:00.2"), ("subs_fr", "00:00:00.500 --> 00:00:01.500\nBonjour"),
                                  ("subs_pt-BR", "00:00:01.000 --> 00:00:01.900\nOlá")] {
                let vtt = try String(contentsOf: package.appendingPathComponent("\(folder)/subtitles.vtt"), encoding: .utf8)
                #expect(vtt.hasPrefix("WEBVTT\n\n") && vtt.contains(cue), "\(folder): \(vtt)")
            }
            try await offPool { try GStreamerPlayer.playToEnd(package.appendingPathComponent("master.m3u8")) }
            try await waitUntil("the sidecars followed the video to the archive", timeout: 20) {
                f.tree(f.archive) == ["film.fr.srt", "film.mkv", "film.pt-BR.vtt"]
            }
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    /// A subtitle sidecar that does not parse fails the job for good with one line naming the file and the line; the
    /// video and every sidecar land in the failed folder, nothing is published.
    @Test func aBrokenSubtitleSidecarFailsTheJobWithItsFileAndLine() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let daemon = try await DaemonProcess.start(config: f.config)
            try Data("WEBVTT\n\n00:00.000 --> 00:00.500\nFine\n".utf8).write(to: f.inbox.appendingPathComponent("bad.en.vtt"))
            try Data("1\n00:00:00,000 --> 00:00:00,500\nFine\n\n2\n0:00:01 -> 0:00:02\nBroken\n".utf8)
                .write(to: f.inbox.appendingPathComponent("bad.fr.srt"))
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("bad.mp4"))

            try await waitUntil("the job failed", timeout: 120) { try await states(f.config) == ["bad.mp4": "failed"] }
            let job = try #require(try await jobs(f.config).first)
            let error = try #require(job["error"] as? String)
            #expect(error == #"bad.fr.srt:6: expected a timing line like "00:00:01,000 --> 00:00:02,000", found "0:00:01 -> 0:00:02""#,
                    "\(error)")
            #expect(!error.contains("\n"))
            #expect(job["attempts"] as? Int == 1)
            try await waitUntil("the video and its sidecars are in the failed folder", timeout: 20) {
                f.tree(f.failed) == ["bad.en.vtt", "bad.fr.srt", "bad.mp4", "bad.mp4.error.txt"]
            }
            #expect(f.tree(f.inbox).isEmpty)
            #expect(f.packages().isEmpty)
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    /// Sidecars without their video are no job and stay where they are; once the video arrives, they are its.
    @Test func aSidecarWithoutAVideoIsLeftAloneUntilItsVideoArrives() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let daemon = try await DaemonProcess.start(config: f.config)
            try Data(#"{"id": 7}"#.utf8).write(to: f.inbox.appendingPathComponent("later.json"))
            try Data("WEBVTT\n".utf8).write(to: f.inbox.appendingPathComponent("later.pt-BR.vtt"))
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("other.mp4"))

            try await waitUntil("the other video completed", timeout: 120) {
                try await states(f.config) == ["other.mp4": "completed"]
            }
            try await waitUntil("the other video archived", timeout: 20) { f.tree(f.archive) == ["other.mp4"] }
            #expect(f.tree(f.inbox) == ["later.json", "later.pt-BR.vtt"])
            #expect(try await jobs(f.config).first?["metadata"] == nil)

            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("later.mp4"))
            try await waitUntil("the late video completed", timeout: 120) {
                try await states(f.config) == ["other.mp4": "completed", "later.mp4": "completed"]
            }
            let later = try #require(try await jobs(f.config).first { $0["source"] as? String == "later.mp4" })
            #expect(Self.same(later["metadata"], try Self.object(Data(#"{"id": 7}"#.utf8))))
            let manifest = try Self.object(Data(contentsOf: f.outbox.appendingPathComponent("later/manifest.json")))
            let sidecars = try #require(manifest["sidecars"] as? [[String: Any]])
            #expect(sidecars.map { $0["language"] as? String } == [nil, "pt-BR"])
            try await waitUntil("the sidecars followed their video", timeout: 20) {
                f.tree(f.archive) == ["later.json", "later.mp4", "later.pt-BR.vtt", "other.mp4"]
            }
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    /// A symbolic link and a FIFO with sidecar names are never read nor moved; a sidecar whose name is taken in the
    /// archive goes there under a reserved one, the file already there untouched.
    @Test func linksAndFIFOsAreNotSidecarsAndTakenArchiveNamesAreNotReplaced() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir)
            let outside = dir.appendingPathComponent("secret.json")
            try Data(#"{"secret": 1}"#.utf8).write(to: outside)
            try FileManager.default.createSymbolicLink(at: f.inbox.appendingPathComponent("clip.json"), withDestinationURL: outside)
            #expect(mkfifo(f.inbox.appendingPathComponent("clip.en.srt").path, 0o644) == 0)
            try FileManager.default.createDirectory(at: f.archive, withIntermediateDirectories: true)
            try Data("theirs".utf8).write(to: f.archive.appendingPathComponent("clip.vtt"))
            try Data("WEBVTT\n".utf8).write(to: f.inbox.appendingPathComponent("clip.vtt"))
            let daemon = try await DaemonProcess.start(config: f.config)
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("clip.mp4"))

            try await waitUntil("the job completed", timeout: 120) { try await states(f.config) == ["clip.mp4": "completed"] }
            let job = try #require(try await jobs(f.config).first)
            #expect(job["metadata"] == nil)
            let manifest = try Self.object(Data(contentsOf: f.outbox.appendingPathComponent("clip/manifest.json")))
            #expect((manifest["sidecars"] as? [[String: Any]])?.map { $0["name"] as? String } == ["clip.vtt"])
            try await waitUntil("the vtt archived under a free name", timeout: 20) {
                f.tree(f.archive) == ["clip-1.vtt", "clip.mp4", "clip.vtt"]
            }
            #expect(try String(contentsOf: f.archive.appendingPathComponent("clip.vtt"), encoding: .utf8) == "theirs")
            #expect(try String(contentsOf: f.archive.appendingPathComponent("clip-1.vtt"), encoding: .utf8) == "WEBVTT\n")
            #expect(f.tree(f.inbox) == ["clip.en.srt", "clip.json"])
            #expect(try String(contentsOf: outside, encoding: .utf8) == #"{"secret": 1}"#)
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    /// With `on_success = "delete"` the sidecars are deleted with their video; another video's are not.
    @Test func sidecarsAreDeletedWithTheirVideo() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, inbox: "on_success = \"delete\"")
            let daemon = try await DaemonProcess.start(config: f.config)
            try Data(#"{"id": 1}"#.utf8).write(to: f.inbox.appendingPathComponent("gone.json"))
            try Data("WEBVTT\n".utf8).write(to: f.inbox.appendingPathComponent("gone.fr.vtt"))
            try Data("WEBVTT\n".utf8).write(to: f.inbox.appendingPathComponent("gone2.fr.vtt"))
            try Clips.drop(try await Clips.shared(), at: f.inbox.appendingPathComponent("gone.mp4"))
            try await waitUntil("the job completed", timeout: 120) { try await states(f.config) == ["gone.mp4": "completed"] }
            try await waitUntil("the video and its sidecars deleted", timeout: 20) { f.tree(f.inbox) == ["gone2.fr.vtt"] }
            #expect(f.tree(f.archive).isEmpty)
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    /// A failed job's sidecars stay in the failed folder when the job is retried: the retry is the video's alone
    /// (it fails for the video's own reason, not a missing sidecar), and its metadata is kept.
    @Test func aRetriedJobDoesNotLookForItsSidecarsInTheInbox() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, transcode: "max_attempts = 1")
            let daemon = try await DaemonProcess.start(config: f.config)
            try Data(#"{"id": 5}"#.utf8).write(to: f.inbox.appendingPathComponent("broken.json"))
            try Data("1\n00:00:00,000 --> 00:00:01,000\nHi\n".utf8).write(to: f.inbox.appendingPathComponent("broken.srt"))
            try Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: f.inbox.appendingPathComponent("broken.mp4"))
            try await waitUntil("the job failed", timeout: 120) { try await states(f.config) == ["broken.mp4": "failed"] }
            let first = try #require(try await jobs(f.config).first?["error"] as? String)
            try await waitUntil("the video and its sidecars are in the failed folder", timeout: 20) {
                f.tree(f.failed) == ["broken.json", "broken.mp4", "broken.mp4.error.txt", "broken.srt"]
            }
            let retry = try await watchfolder("retry", "1", "--config", f.config.path)
            #expect(retry.status == 0, "\(retry.stderr)")
            try await waitUntil("the retried job failed again", timeout: 120) {
                try await jobs(f.config).first.map { $0["state"] as? String == "failed" && $0["attempts"] as? Int == 1 } == true
                    && f.exists(f.failed, "broken.mp4")
            }
            let job = try #require(try await jobs(f.config).first)
            #expect(job["error"] as? String == first)
            #expect(Self.same(job["metadata"], try Self.object(Data(#"{"id": 5}"#.utf8))))
            #expect(await daemon.stop(SIGTERM) == 0)
        }
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The same JSON value (compared through Foundation, as a receiver would parse it).
    static func same(_ a: Any?, _ b: [String: Any]) -> Bool {
        guard let a = a as? [String: Any] else { return false }
        return NSDictionary(dictionary: a).isEqual(to: b)
    }
}
