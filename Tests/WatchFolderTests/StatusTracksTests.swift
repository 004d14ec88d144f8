import Foundation
import HTTPTypes
import Pipeline
import TestSupport
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus
#if canImport(Glibc)
import Glibc
#endif

/// A package's audio languages, subtitle tracks and storyboard in `GET /api/jobs/{id}`, served by the status
/// server, and shown by the dashboard (issue 18).
@Suite struct StatusTracksTests {
    /// A bench whose engine is quick and makes a storyboard tile a second.
    static func bench(_ dir: URL) throws -> StatusBench {
        let plain = try StatusBench(root: dir)
        var config = plain.config
        config.transcode.options.preset = "ultrafast"
        config.transcode.options.storyboardSeconds = 1
        config.transcode.maxAttempts = 1
        return StatusBench(copying: plain, config: config)
    }

    /// A 4 s clip with two tagged audio streams (English without a title; French titled "Commentaire", marked
    /// default) made with the ffmpeg CLI, run through the store by the real scheduler and engine.
    static func transcodeTwoLanguages(_ bench: StatusBench) async throws -> Job {
        let url = bench.inbox.appendingPathComponent("two.mkv")
        let made = try await runTool("ffmpeg", [
            "-y", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
            "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=4",
            "-map", "0:v", "-map", "1:a", "-map", "2:a",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", "-metadata:s:a:1", "title=Commentaire",
            "-disposition:a:0", "0", "-disposition:a:1", "default", url.path,
        ])
        guard made.status == 0 else { throw StatusTestError("ffmpeg could not make two.mkv") }
        let id = try #require(try await bench.enqueue("two.mkv").id)
        return try await withScheduler(bench.scheduler()) {
            try await waitUntil("two.mkv is transcoded", timeout: 120) {
                let state = try await bench.store.job(id)?.state
                if state == .failed { throw StatusTestError("two.mkv failed: \(try await bench.store.job(id)?.error ?? "")") }
                return state == .completed
            }
            return try #require(try await bench.store.job(id))
        }
    }

    @Test func apiListsAudioLanguagesAndServesTheStoryboardAndItsSheets() async throws {
        try await withTempDir { dir in
            let bench = try Self.bench(dir)
            let id = try #require(try await Self.transcodeTwoLanguages(bench).id)
            try await withStatusServer(bench.server()) { client async throws in
                let body = try await client.get("/api/jobs/\(id)").json()
                let audio = try #require(body["audio"] as? [[String: Any]], "\(body)")
                #expect(audio.map { $0["language"] as? String } == ["en", "fr"])
                #expect(audio.map { $0["name"] as? String } == ["English", "Commentaire"])
                #expect(audio.map { $0["default"] as? Bool } == [false, true])
                #expect(body["subtitles"] == nil, "a package without subtitle renditions has no subtitles")
                let storyboard = try #require(body["storyboard"] as? [String: Any], "\(body)")
                let vttPath = "/api/jobs/\(id)/storyboard/storyboard.vtt"
                #expect(storyboard["vtt"] as? String == vttPath)
                #expect(storyboard["interval_seconds"] as? Double == 1)

                let vtt = try await client.get(vttPath)
                #expect(vtt.status == .ok)
                #expect(vtt.headers[.contentType] == "text/vtt; charset=utf-8")
                #expect(vtt.text.hasPrefix("WEBVTT"))
                // Each cue's sheet, resolved against the VTT's URL as a player resolves it, is a JPEG.
                let base = try #require(URL(string: "http://127.0.0.1:\(client.port)\(vttPath)"))
                let sheets = vtt.text.split(separator: "\n").filter { $0.contains("#xywh=") }
                    .compactMap { URL(string: String($0), relativeTo: base)?.absoluteURL.path }
                #expect(sheets.count >= 4, "a tile a second of 4 s: \(vtt.text)")
                #expect(Set(sheets) == ["/api/jobs/\(id)/storyboard/storyboard_01.jpg"])
                for sheet in Set(sheets) {
                    let response = try await client.get(sheet)
                    #expect(response.status == .ok, "\(sheet)")
                    #expect(response.headers[.contentType] == "image/jpeg")
                    let file = dir.appendingPathComponent("sheet.jpg")
                    try response.data.write(to: file)
                    let probe = try await runTool("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width",
                                                              "-of", "csv=p=0", file.path])
                    #expect(probe.output.hasPrefix("mjpeg,"), "\(sheet): \(probe.output)")
                }
                // Only the manifest's storyboard files are served on that route, not the rest of the package.
                for other in ["manifest.json", "master.m3u8", "poster.jpg", "storyboard_02.jpg"] {
                    #expect(try await client.get("/api/jobs/\(id)/storyboard/\(other)").status == .notFound, "\(other)")
                }
            }
        }
    }

    /// A package folder holding links out of it, a FIFO, and a manifest naming `..` paths: nothing outside the
    /// package is served, and the server answers 404 at once.
    @Test func pathTricksInThePackageDoNotLeaveIt() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let secret = dir.appendingPathComponent("secret")
            try FileManager.default.createDirectory(at: secret, withIntermediateDirectories: true)
            try StatusBench.jpeg("SECRET").write(to: secret.appendingPathComponent("secret.jpg"))
            try Data("WEBVTT\n\nSECRET\n".utf8).write(to: secret.appendingPathComponent("secret.vtt"))

            try await bench.drop("tricks.mp4")
            let package = bench.config.outbox.path.appendingPathComponent("tricks")
            let files = FileManager.default
            try files.createDirectory(at: package, withIntermediateDirectories: true)
            try StatusBench.jpeg("sheet 1").write(to: package.appendingPathComponent("storyboard_01.jpg"))
            try StatusBench.jpeg("not listed").write(to: package.appendingPathComponent("extra.jpg"))
            try files.createSymbolicLink(atPath: package.appendingPathComponent("storyboard.vtt").path,
                                         withDestinationPath: secret.appendingPathComponent("secret.vtt").path)
            try files.createSymbolicLink(atPath: package.appendingPathComponent("storyboard_02.jpg").path,
                                         withDestinationPath: "../../secret/secret.jpg")
            try files.createSymbolicLink(atPath: package.appendingPathComponent("poster.jpg").path,
                                         withDestinationPath: secret.appendingPathComponent("secret.jpg").path)
            try files.createSymbolicLink(atPath: package.appendingPathComponent("thumbnails").path, withDestinationPath: secret.path)
            #expect(mkfifo(package.appendingPathComponent("storyboard_03.jpg").path, 0o644) == 0)
            let manifest = """
                {"poster":"poster.jpg","thumbnails":["thumbnails/secret.jpg","../secret/secret.jpg","storyboard_01.jpg/../extra.jpg"],
                 "storyboard":{"vtt":"storyboard.vtt","intervalSeconds":5,
                               "sheets":["storyboard_01.jpg","storyboard_02.jpg","storyboard_03.jpg","../secret/secret.jpg"]}}
                """
            let job = try await bench.completeByHand(package: package, manifest: manifest)
            let id = try #require(job.id)
            try await withStatusServer(bench.server()) { client async throws in
                let served = try await client.get("/api/jobs/\(id)/storyboard/storyboard_01.jpg")
                #expect(served.status == .ok)
                #expect(served.data == StatusBench.jpeg("sheet 1"))
                let refused = ["/api/jobs/\(id)/storyboard/storyboard.vtt", "/api/jobs/\(id)/storyboard/storyboard_02.jpg",
                               "/api/jobs/\(id)/storyboard/storyboard_03.jpg", "/api/jobs/\(id)/storyboard/secret.jpg",
                               "/api/jobs/\(id)/storyboard/..%2Fsecret%2Fsecret.jpg",
                               "/api/jobs/\(id)/storyboard/extra.jpg", "/api/jobs/\(id)/poster",
                               "/api/jobs/\(id)/thumbnails/1", "/api/jobs/\(id)/thumbnails/2", "/api/jobs/\(id)/thumbnails/3"]
                for uri in refused {
                    let response = try await client.get(uri)
                    #expect(response.status == .notFound, "\(uri): \(response.status) \(response.text)")
                    #expect(!response.text.contains("SECRET"), "\(uri)")
                }
            }
        }
    }

    /// Subtitle renditions (and audio) as another builder's manifest lists them: language, NAME (title, else the
    /// folder name) and default, in the manifest's order; a package without any has neither key.
    @Test func subtitleTracksAreListedLikeAudio() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("subs.mp4")
            try await bench.drop("plain.mp4")
            let package = bench.config.outbox.path.appendingPathComponent("subs")
            try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
            let subs = try await bench.completeByHand(package: package, manifest: """
                {"subtitleRenditions":[{"name":"subs_pt-BR","language":"pt-BR","title":"Português","default":true,"vtt":"subs_pt-BR/subtitles.vtt"},
                                       {"name":"subs_en","language":"en"}],
                 "audioRenditions":[]}
                """)
            let plainPackage = bench.config.outbox.path.appendingPathComponent("plain")
            try FileManager.default.createDirectory(at: plainPackage, withIntermediateDirectories: true)
            let plain = try await bench.completeByHand(package: plainPackage, manifest: #"{"poster":"poster.jpg"}"#)
            try await withStatusServer(bench.server()) { client async throws in
                let body = try await client.get("/api/jobs/\(subs.id!)").json()
                let tracks = try #require(body["subtitles"] as? [[String: Any]], "\(body)")
                #expect(tracks.map { $0["language"] as? String } == ["pt-BR", "en"])
                #expect(tracks.map { $0["name"] as? String } == ["Português", "subs_en"])
                #expect(tracks.map { $0["default"] as? Bool } == [true, false])
                #expect(body["audio"] == nil, "an empty list is not shown")
                let other = try await client.get("/api/jobs/\(plain.id!)").json()
                #expect(other["audio"] == nil && other["subtitles"] == nil && other["storyboard"] == nil, "\(other)")
            }
        }
    }

    /// A package on S3/CloudFront: its storyboard files are redirects beside its master, like its pictures; names
    /// the manifest does not list are still not.
    @Test func aPublishedPackagesStoryboardIsARedirect() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("cdn.mp4")
            let id = try #require(try await bench.store.claimNext(now: Date())?.id)
            let manifest = #"{"storyboard":{"vtt":"storyboard.vtt","sheets":["storyboard_01.jpg"],"intervalSeconds":5}}"#
            try await bench.store.transition(id, .publishing(location: "https://cdn.example/p/cdn", encoder: "libx264", manifest: manifest))
            try await bench.store.transition(id, .completed(location: "https://cdn.example/p/cdn", master: "https://cdn.example/p/cdn/master.m3u8",
                                                            effect: nil))
            try await withStatusServer(bench.server()) { client async throws in
                let body = try await client.get("/api/jobs/\(id)").json()
                #expect((body["storyboard"] as? [String: Any])?["vtt"] as? String == "/api/jobs/\(id)/storyboard/storyboard.vtt")
                for file in ["storyboard.vtt", "storyboard_01.jpg"] {
                    let response = try await client.get("/api/jobs/\(id)/storyboard/\(file)")
                    #expect(response.status == .found, "\(file)")
                    #expect(response.headers[.location] == "https://cdn.example/p/cdn/\(file)")
                }
                #expect(try await client.get("/api/jobs/\(id)/storyboard/master.m3u8").status == .notFound)
            }
        }
    }

    /// The storyboard file is served only up to its bound (1 MiB for a VTT).
    @Test func anOversizedStoryboardIsNotServed() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("big.mp4")
            let package = bench.config.outbox.path.appendingPathComponent("big")
            try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
            try Data(("WEBVTT\n\n" + String(repeating: "x", count: 1 << 20)).utf8).write(to: package.appendingPathComponent("storyboard.vtt"))
            let job = try await bench.completeByHand(package: package, manifest: #"{"storyboard":{"vtt":"storyboard.vtt","sheets":[]}}"#)
            try await withStatusServer(bench.server()) { client async throws in
                #expect(try await client.get("/api/jobs/\(job.id!)/storyboard/storyboard.vtt").status == .notFound)
            }
        }
    }

    /// Another builder's manifest: a field of the wrong type leaves the others readable.
    @Test func manifestViewReadsTracksAndStoryboardTolerantly() throws {
        let view = try #require(ManifestView(json: """
            {"audioRenditions":[{"name":"audio_en","language":"en","title":5,"default":true},{"language":"fr"}],
             "subtitleRenditions":"none","poster":"poster.jpg",
             "storyboard":{"vtt":"storyboard.vtt","sheets":"storyboard_01.jpg","intervalSeconds":5}}
            """))
        #expect(view.audioRenditions?.map(\.language) == ["en", "fr"])
        #expect(view.audioRenditions?.map(\.label) == ["audio_en", nil])
        #expect(view.audioRenditions?.map(\.isDefault) == [true, nil])
        #expect(view.subtitleRenditions == nil)
        #expect(view.storyboard?.vtt == "storyboard.vtt")
        #expect(view.storyboard?.sheets == nil)
        #expect(view.storyboard?.intervalSeconds == 5)
        #expect(view.poster == "poster.jpg")
    }
}

extension StatusBench {
    /// Takes the oldest queued job and completes it with the package folder `package` (made by the test) and the
    /// manifest text `manifest`.
    func completeByHand(package: URL, manifest: String) async throws -> Job {
        let id = try #require(try await store.claimNext(now: Date())?.id)
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        try await store.transition(id, .publishing(location: package.path, encoder: "libx264", manifest: manifest))
        return try await store.transition(id, .completed(location: package.path, master: package.appendingPathComponent("master.m3u8").path,
                                                         effect: nil))
    }
}
