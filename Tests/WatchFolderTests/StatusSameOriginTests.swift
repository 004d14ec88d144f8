import Foundation
import Hummingbird
import TestSupport
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// Without a token the server is open to whoever reaches it on loopback; web pages in the operator's browser
/// are kept out by the Host and Origin checks (DNS rebinding, cross-site POSTs).
@Suite struct StatusSameOriginTests {
    @Test func withoutATokenCrossSitePostsAreRefusedAndSameOriginOnesAllowed() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("a.mp4")  // job 1, queued
            try await withStatusServer(bench.server()) { client async throws in
                let own = "http://127.0.0.1:\(client.port)"
                let crossSite: [HTTPFields] = [
                    [.origin: "http://evil.example"],
                    [.origin: "http://evil.example", .init("Sec-Fetch-Site")!: "cross-site"],
                    [.origin: "null"],
                    [.origin: "http://localhost:\(client.port)"],  // another origin: the Host says 127.0.0.1
                    [.init("Sec-Fetch-Site")!: "cross-site"],
                    [.init("Sec-Fetch-Site")!: "same-site"],
                    [.origin: own, .init("Sec-Fetch-Site")!: "cross-site"],
                ]
                for headers in crossSite {
                    let refused = try await client.send("/api/jobs/1/cancel", .post, headers: headers)
                    #expect(refused.status == .forbidden, "\(headers)")
                    #expect(refused.headers[.contentType]?.hasPrefix("application/json") == true)
                    let error = try refused.json()["error"] as? String ?? ""
                    #expect(error.hasPrefix("cross-site POST refused: "), "\(error)")
                    #expect(!refused.text.contains("\n"))
                }
                #expect(try await isRefused(client, "/login"), "every state-changing request, not only the API's")
                #expect(try await client.get("/api/jobs/1").text.contains(#""state":"queued""#), "nothing was cancelled")

                // The dashboard's own requests, and tools that are not browsers.
                let sameOrigin = try await client.send("/api/jobs/1/cancel", .post,
                                                       headers: [.origin: own, .init("Sec-Fetch-Site")!: "same-origin"])
                #expect(sameOrigin.status == .ok, "\(sameOrigin.text)")
                #expect(try await client.send("/api/jobs/1/retry", .post).status == .ok, "curl: neither header")
                #expect(try await client.send("/api/jobs/1/cancel", .post,
                                              headers: [.init("Sec-Fetch-Site")!: "same-origin"]).status == .ok)
                // GET is a read: other origins cannot read the answer anyway (no CORS headers).
                #expect(try await client.get("/api/jobs", headers: [.origin: "http://evil.example"]).status == .ok)
            }
        }
    }

    /// A POST to `uri` from a foreign origin is refused with 403.
    func isRefused(_ client: StatusClient, _ uri: String) async throws -> Bool {
        try await client.send(uri, .post, headers: [.origin: "http://evil.example"], body: "token=x").status == .forbidden
    }

    @Test func withoutATokenOnlyTheListenHostAndLocalhostAreAnswered() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await bench.drop("a.mp4")
            try await withStatusServer(bench.server()) { client async throws in
                for host in ["evil.example", "evil.example:\(client.port)", "127.0.0.1.nip.io:\(client.port)", "localhost.evil.example",
                             "192.168.1.10:\(client.port)", "[::1]:\(client.port)"] {
                    for uri in ["/api/health", "/api/jobs", "/", "/metrics", "/api/events"] {
                        let response = try await client.get(uri, headers: [.init("Host")!: host])
                        #expect(response.status == .forbidden, "Host: \(host) \(uri)")
                        #expect(try response.json()["error"] as? String
                                == "Host \"\(host)\" is not this server: without [http] token it answers to 127.0.0.1 or localhost only")
                    }
                    let post = try await client.send("/api/jobs/1/cancel", .post, headers: [.init("Host")!: host])
                    #expect(post.status == .forbidden)
                }
                #expect(try await client.get("/api/jobs/1").text.contains(#""state":"queued""#))
                // The listen address and localhost, with any port (an SSH tunnel's) or none.
                for host in ["127.0.0.1:\(client.port)", "localhost:\(client.port)", "LOCALHOST:\(client.port)", "localhost:9000",
                             "localhost", "127.0.0.1"] {
                    #expect(try await client.get("/api/jobs", headers: [.init("Host")!: host]).status == .ok, "Host: \(host)")
                }
                let tunnel = try await client.send("/api/jobs/1/cancel", .post,
                                                   headers: [.init("Host")!: "localhost:9000", .origin: "http://localhost:9000"])
                #expect(tunnel.status == .ok, "the dashboard through `ssh -L 9000:127.0.0.1:PORT`: \(tunnel.text)")
            }
        }
    }

    @Test func twoHostHeadersAreRefused() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await withStatusServer(bench.server()) { client async throws in
                let socket = try await offPool { try RawSocket(port: client.port) }
                try socket.send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:\(client.port)\r\nHost: evil.example\r\n\r\n")
                try await waitUntil("an answer", timeout: 20) { socket.text.contains("\r\n\r\n") }
                #expect(socket.text.hasPrefix("HTTP/1.1 403 "), "\(socket.text)")
            }
        }
    }

    @Test func withATokenTheTokenRulesApplyAsBefore() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir, token: "t0k")
            try await bench.drop("a.mp4")
            try await withStatusServer(bench.server()) { client async throws in
                let foreign: HTTPFields = [.init("Host")!: "appliance.example.com:8080", .origin: "https://ops.example.com"]
                #expect(try await client.send("/api/jobs/1/cancel", .post, headers: foreign).status == .unauthorized)
                #expect(try await client.send("/api/jobs/1/cancel", .post, token: "t0k", headers: foreign).status == .ok)
                #expect(try await client.get("/api/health", headers: foreign).status == .ok)
            }
        }
    }
}
