import Foundation
import Hummingbird
import Logging
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

@Suite struct StatusAPITests {
    static let token = "s3cret-token"

    @Test func healthIsOpenAndReportsCountsVersionAndLastEvent() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir, token: Self.token)
            try await bench.drop("a.mp4")
            try await bench.drop("b.mp4")
            try await withStatusServer(bench.server()) { client async throws in
                let response = try await client.get("/api/health")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body = try response.json()
                #expect(body["status"] as? String == "ok")
                #expect(body["version"] as? String == WatchFolderVersion.string)
                #expect((body["jobs"] as? [String: Int])?["queued"] == 2)
                #expect((body["jobs"] as? [String: Int])?["failed"] == 0)
                #expect(body["queue_depth"] as? Int == 2)
                #expect(body["last_event_id"] as? Int == 2)
            }
        }
    }

    @Test func everyProtectedRouteRefusesMissingOrWrongTokensAndAcceptsTheRightOne() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir, token: Self.token)
            try await bench.drop("a.mp4")
            try await bench.complete(thumbnails: 1)  // job 1 completed
            try await bench.drop("b.mp4")            // job 2 queued
            try await withStatusServer(bench.server()) { client async throws in
                let routes: [(HTTPRequest.Method, String, HTTPResponse.Status)] = [
                    (.get, "/api/jobs", .ok), (.get, "/api/jobs/1", .ok), (.get, "/api/jobs/1/poster", .ok),
                    (.get, "/api/jobs/1/thumbnails/1", .ok), (.post, "/api/jobs/2/cancel", .ok),
                    (.post, "/api/jobs/2/retry", .ok),
                ]
                for (method, uri, expected) in routes {
                    let anonymous = try await client.send(uri, method)
                    #expect(anonymous.status == .unauthorized, "\(method) \(uri)")
                    #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
                    #expect(try anonymous.json()["error"] as? String == "authentication required")
                    let wrong = try await client.send(uri, method, token: "s3cret-tokeN")
                    #expect(wrong.status == .unauthorized, "\(method) \(uri)")
                    #expect(try wrong.json()["error"] as? String == "invalid token")
                    let longer = try await client.send(uri, method, token: Self.token + "x")
                    #expect(longer.status == .unauthorized, "\(method) \(uri)")
                    let right = try await client.send(uri, method, token: Self.token)
                    #expect(right.status == expected, "\(method) \(uri): \(right.text)")
                }
                // The event stream is refused before it starts.
                #expect(try await client.get("/api/events").status == .unauthorized)
                // The dashboard shows the login form instead of the page.
                let page = try await client.get("/")
                #expect(page.status == .unauthorized)
                #expect(page.text.contains(#"<form class="login" method="post" action="/login">"#))
                #expect(page.text.contains(#"<label for="token">"#))
                #expect(try await client.get("/", token: Self.token).text.contains(#"new EventSource("/api/events")"#))
                // /metrics is open, but a wrong token is still refused.
                #expect(try await client.get("/metrics").status == .ok)
                #expect(try await client.get("/metrics", token: "nope").status == .unauthorized)
                #expect(try await client.get("/metrics", token: Self.token).status == .ok)
            }
        }
    }

    @Test func metricsTokenProtectsMetricsLikeTheAPIButNotHealth() async throws {
        try await withTempDir { dir in
            var bench = try StatusBench(root: dir, token: Self.token)
            bench.config.http.metricsToken = true
            try await withStatusServer(bench.server()) { client async throws in
                let anonymous = try await client.get("/metrics")
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
                #expect(try await client.get("/metrics", token: "nope").status == .unauthorized)
                let right = try await client.get("/metrics", token: Self.token)
                #expect(right.status == .ok)
                #expect(right.text.contains("watchfolder_jobs"))
                #expect(try await client.get("/api/health").status == .ok)
            }
        }
    }

    @Test func withoutATokenOnLoopbackEverythingIsOpen() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("a.mp4")
            try await withStatusServer(bench.server()) { client async throws in
                #expect(try await client.get("/api/jobs").status == .ok)
                #expect(try await client.get("/").text.contains("<title>watchfolder</title>"))
            }
        }
    }

    @Test func loginFormSetsAnHttpOnlyStrictCookieThatAuthenticates() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir, token: Self.token)
            try await withStatusServer(bench.server()) { client async throws in
                let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                let refused = try await client.send("/login", .post, headers: form, body: "token=wrong")
                #expect(refused.status == .unauthorized)
                #expect(refused.text.contains("That token is not right."))
                #expect(refused.headers[.setCookie] == nil)

                let accepted = try await client.send("/login", .post, headers: form, body: "token=s3cret%2Dtoken")
                #expect(accepted.status == .seeOther)
                #expect(accepted.headers[.location] == "/")
                let setCookie = try #require(accepted.headers[.setCookie])
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
                #expect(!setCookie.contains(Self.token), "the cookie must not carry the token itself")
                let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))

                #expect(try await client.get("/api/jobs", headers: [.cookie: cookie]).status == .ok)
                #expect(try await client.get("/", headers: [.cookie: cookie]).text.contains("Sign out"))
                #expect(try await client.get("/api/jobs", headers: [.cookie: "wf_session=forged"]).status == .unauthorized)

                let out = try await client.send("/logout", .post, headers: [.cookie: cookie])
                #expect(out.status == .seeOther)
                #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
        }
    }

    @Test func jobsListPagesWithCursorsAndFiltersByState() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            for name in ["a", "b", "c", "d", "e"] { try await bench.drop("\(name).mp4") }
            _ = try await bench.store.transition(2, .failed(error: "no video stream", encoder: nil, effect: nil))
            try await withStatusServer(bench.server()) { client async throws in
                let first = try await client.get("/api/jobs?limit=2").json()
                let firstJobs = try #require(first["jobs"] as? [[String: Any]])
                #expect(firstJobs.map { $0["id"] as? Int } == [5, 4])
                #expect(firstJobs.first?["source"] as? String == "e.mp4")
                #expect(firstJobs.first?["state"] as? String == "queued")
                let cursor = try #require(first["next_cursor"] as? String)
                let second = try await client.get("/api/jobs?limit=2&cursor=\(cursor)").json()
                #expect((second["jobs"] as? [[String: Any]])?.map { $0["id"] as? Int } == [3, 2])
                let third = try await client.get("/api/jobs?limit=2&cursor=\(second["next_cursor"] as? String ?? "")").json()
                #expect((third["jobs"] as? [[String: Any]])?.map { $0["id"] as? Int } == [1])
                #expect(third["next_cursor"] is NSNull || third["next_cursor"] == nil)

                let failed = try await client.get("/api/jobs?state=failed").json()
                let failedJobs = try #require(failed["jobs"] as? [[String: Any]])
                #expect(failedJobs.map { $0["id"] as? Int } == [2])
                #expect(failedJobs.first?["error"] as? String == "no video stream")

                for bad in ["state=done", "limit=0", "limit=501", "limit=x", "cursor=-3", "cursor=abc"] {
                    let response = try await client.get("/api/jobs?\(bad)")
                    #expect(response.status == .badRequest, "\(bad)")
                    #expect((try response.json()["error"] as? String)?.isEmpty == false, "\(bad)")
                }
            }
        }
    }

    @Test func jobDetailHasRenditionsURLsAttemptsErrorAndTimings() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("clip.mp4")
            let job = try await bench.complete(thumbnails: 3)
            try await withStatusServer(bench.server()) { client async throws in
                let body = try await client.get("/api/jobs/\(job.id!)").json()
                #expect(body["state"] as? String == "completed")
                #expect(body["attempts"] as? Int == 1)
                #expect(body["encoder"] as? String == "libx264")
                #expect(body["master"] as? String == job.masterLocation)
                #expect(body["speed"] as? Double == 1.33)
                let renditions = try #require(body["renditions"] as? [[String: Any]])
                #expect(renditions.first?["name"] as? String == "360p")
                #expect(renditions.first?["width"] as? Int == 640)
                #expect(renditions.first?["url"] as? String == job.outputLocation! + "/360p/index.m3u8")
                #expect(body["poster"] as? String == "/api/jobs/1/poster")
                #expect(body["thumbnails"] as? [String] == (1...3).map { "/api/jobs/1/thumbnails/\($0)" })
                let timings = try #require(body["timings"] as? [String: Any])
                #expect(timings["created_at"] is String && timings["started_at"] is String && timings["finished_at"] is String)
                #expect(timings["transcode_seconds"] as? Double == 1.5)
                #expect(timings["duration_seconds"] is Double)
            }
        }
    }

    @Test func badIdsAreNotFoundAndBadMethodsAreNotAllowed() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("a.mp4")  // job 1, queued: no package
            try await withStatusServer(bench.server()) { client async throws in
                for uri in ["/api/jobs/99", "/api/jobs/abc", "/api/jobs/0", "/api/jobs/-1", "/api/jobs/99/poster",
                            "/api/jobs/1/poster", "/api/jobs/1/thumbnails/1", "/api/nothing", "/nope"] {
                    let response = try await client.get(uri)
                    #expect(response.status == .notFound, "\(uri)")
                    #expect((try? response.json()["error"] as? String)?.isEmpty == false, "\(uri): \(response.text)")
                }
                for uri in ["/api/jobs/99/retry", "/api/jobs/x/cancel"] {
                    #expect(try await client.send(uri, .post).status == .notFound, "\(uri)")
                }
                let methods: [(HTTPRequest.Method, String, String)] = [
                    (.delete, "/api/jobs", "GET"), (.post, "/api/jobs", "GET"), (.put, "/api/jobs/1", "GET"),
                    (.get, "/api/jobs/1/retry", "POST"), (.delete, "/api/jobs/1/cancel", "POST"),
                    (.post, "/api/health", "GET"), (.post, "/metrics", "GET"), (.post, "/api/events", "GET"),
                    (.post, "/api/jobs/1/poster", "GET"), (.get, "/login", "POST"),
                ]
                for (method, uri, allow) in methods {
                    let response = try await client.send(uri, method)
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    #expect((try response.json()["error"] as? String)?.contains("not allowed") == true)
                }
            }
        }
    }

    @Test func thumbnailsAndPosterAreServedFromThePackage() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("clip.mp4")
            try await bench.complete(thumbnails: 2)
            try await withStatusServer(bench.server()) { client async throws in
                let poster = try await client.get("/api/jobs/1/poster")
                #expect(poster.status == .ok)
                #expect(poster.headers[.contentType] == "image/jpeg")
                #expect(poster.data == StatusBench.jpeg("poster 1"))
                let second = try await client.get("/api/jobs/1/thumbnails/2")
                #expect(second.data == StatusBench.jpeg("thumb 2 of 1"))
                for n in ["0", "3", "x"] {
                    #expect(try await client.get("/api/jobs/1/thumbnails/\(n)").status == .notFound, "\(n)")
                }
            }
        }
    }

    @Test func cancelAndRetryFollowTheJobsState() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("first.mp4")   // 1
            try await bench.drop("second.mp4")  // 2
            _ = try await bench.store.claimNext(now: Date())  // job 1 runs, job 2 stays queued
            try await withStatusServer(bench.server()) { client async throws in
                // A running job: cancellation is requested (202), the scheduler stops it.
                let running = try await client.send("/api/jobs/1/cancel", .post)
                #expect(running.status == .accepted)
                #expect(try running.json()["cancel_requested"] as? Bool == true)
                #expect(try await bench.store.cancelRequests() == [1])
                // A queued job is cancelled at once.
                let queued = try await client.send("/api/jobs/2/cancel", .post)
                #expect(queued.status == .ok)
                #expect(try queued.json()["state"] as? String == "cancelled")
                // Cancelling it again conflicts.
                let again = try await client.send("/api/jobs/2/cancel", .post)
                #expect(again.status == .conflict)
                #expect(try again.json()["error"] as? String == "job 2 is cancelled: cannot cancel")
                // Retry requeues it; retrying a queued job conflicts.
                let retried = try await client.send("/api/jobs/2/retry", .post)
                #expect(retried.status == .ok)
                #expect(try retried.json()["state"] as? String == "queued")
                #expect(try await client.send("/api/jobs/2/retry", .post).status == .conflict)
            }
        }
    }

    @Test func retryOfAFailedJobMovesItsSourceBackIntoTheInbox() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.failInFailedFolder("sub/broken.mp4")
            let failedCopy = bench.config.inbox.failedPath.appendingPathComponent("sub/broken.mp4")
            #expect(FileManager.default.fileExists(atPath: failedCopy.path))
            try await withStatusServer(bench.server()) { client async throws in
                let response = try await client.send("/api/jobs/1/retry", .post)
                #expect(response.status == .ok)
                #expect(try response.json()["state"] as? String == "queued")
                #expect(try response.json()["attempts"] as? Int == 0)
                #expect(try response.json()["restored_as"] == nil)
            }
            #expect(FileManager.default.fileExists(atPath: bench.inbox.appendingPathComponent("sub/broken.mp4").path))
            #expect(!FileManager.default.fileExists(atPath: failedCopy.path))
        }
    }

    @Test func aRetryWhoseInboxNameIsTakenSaysWhereTheSourceWent() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.failInFailedFolder("sub/broken.mp4")
            // A newer upload took the name in the inbox.
            try Data("newer".utf8).write(to: bench.inbox.appendingPathComponent("sub/broken.mp4"))
            try await withStatusServer(bench.server()) { client async throws in
                let response = try await client.send("/api/jobs/1/retry", .post)
                #expect(response.status == .ok)
                let body = try response.json()
                #expect(body["state"] as? String == "queued")
                #expect(body["source"] as? String == "sub/broken-1.mp4")
                #expect(body["restored_as"] as? String == "sub/broken-1.mp4")
            }
            #expect(try String(contentsOf: bench.inbox.appendingPathComponent("sub/broken.mp4"), encoding: .utf8) == "newer")
            #expect(FileManager.default.fileExists(atPath: bench.inbox.appendingPathComponent("sub/broken-1.mp4").path))
        }
    }

    @Test func aNonLoopbackAddressWithoutATokenIsRefusedAtStart() async throws {
        try await withTempDir { dir in
            var bench = try StatusBench(root: dir)
            var config = bench.config
            config.http.host = "0.0.0.0"
            bench = StatusBench(copying: bench, config: config)
            let error = await #expect(throws: StatusServerError.self) { try await bench.server()({ _ in }).run() }
            #expect(error?.description.contains("reachable from other machines") == true)
            #expect(throws: Never.self) { try StatusServer.check(.init(host: "0.0.0.0", port: 8080, token: "t")) }
            #expect(throws: Never.self) { try StatusServer.check(.init(host: "127.0.0.1", port: 8080, token: nil)) }
            #expect(throws: StatusServerError.self) { try StatusServer.check(.init(host: "::", port: 8080, token: "")) }
        }
    }

    @Test func tokensAreComparedByValueWhateverTheirLength() {
        #expect(StatusAuth.constantTimeEqual("abc", "abc"))
        #expect(!StatusAuth.constantTimeEqual("abc", "abd"))
        #expect(!StatusAuth.constantTimeEqual("abc", "abcd"))
        #expect(!StatusAuth.constantTimeEqual("", "a"))
    }
}

extension StatusBench {
    init(copying other: StatusBench, config: Config) {
        self.root = other.root
        self.config = config
        self.store = other.store
    }
}

extension StatusBench {
    /// Drops `path`, runs it, and fails it for good: its source moves to the failed folder.
    func failInFailedFolder(_ path: String) async throws {
        let job = try await drop(path)
        _ = try await store.claimNext(now: Date())
        let settings = SchedulerSettings(config: config)
        _ = try await store.transition(job.id!, .failed(error: "no video stream", encoder: "libx264",
                                                       effect: settings.failEffect(for: job, reason: "no video stream", encoder: nil)))
        await FileEffectRunner(store: store, logger: .init(label: "test")).runPending(job: job.id!)
    }
}
