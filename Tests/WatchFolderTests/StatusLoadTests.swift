import Foundation
import Glibc
import Hummingbird
import TestSupport
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// The status server under load: idle sockets, trickled requests, a full house of busy connections, event
/// streams past their cap, probes that block. Raw TCP sockets play the clients HTTP libraries would not be.
@Suite struct StatusLoadTests {
    static func request(_ line: String, port: Int, _ headers: [String] = []) -> String {
        ([line, "Host: 127.0.0.1:\(port)"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
    }

    @Test func aThousandIdleConnectionsHoldAtMostTheCapAndHealthStillAnswers() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            #expect(bench.config.http.maxConnections == 256, "the default")
            try await bench.drop("a.mp4")
            // Idle connections would close after the idle timeout anyway: here only the cap may close them.
            try await withStatusServer(bench.server(idleTimeout: .seconds(600))) { client async throws in
                let sockets = try await offPool { try (0..<1000).map { _ in try RawSocket(port: client.port) } }
                // Each connection past the 256th closed the oldest idle one to make room.
                try await waitUntil("at most 256 of the 1,000 idle connections are open", timeout: 60) {
                    sockets.filter { !$0.peerClosed() }.count <= 256
                }
                let health = try await client.get("/api/health")
                #expect(health.status == .ok, "\(health.text)")
                #expect(try await client.get("/api/jobs").status == .ok)
                // The newest connections are the ones kept; the first request took an idle one's place.
                #expect(!sockets.last!.peerClosed())
                #expect(sockets.filter { !$0.peerClosed() }.count <= 255)
            }
        }
    }

    @Test func pastTheCapWithEveryConnectionBusyANewOneIsClosedAtAccept() async throws {
        try await withTempDir { dir in
            var bench = try StatusBench(root: dir, token: "t0k")
            bench.config.http.maxConnections = 4
            bench.config.http.maxEventStreams = 3
            let make = bench.server(headerTimeout: .seconds(120))
            let gate = GateBox()
            try await withStatusServer({ onRunning in
                let server = make(onRunning)
                gate.gate = server.gate
                return server
            }) { client async throws in
                let auth = "Authorization: Bearer t0k"
                var busy: [RawSocket] = []
                for _ in 0..<3 {  // three event streams
                    let stream = try await offPool { try RawSocket(port: client.port) }
                    try stream.send(Self.request("GET /api/events HTTP/1.1", port: client.port, [auth]))
                    try await waitUntil("the stream starts", timeout: 20) { stream.text.contains("retry: 2000") }
                    busy.append(stream)
                }
                // A login whose body has not arrived yet: the request is in progress.
                let login = try await offPool { try RawSocket(port: client.port) }
                try login.send(Self.request("POST /login HTTP/1.1", port: client.port,
                                            ["Content-Type: application/x-www-form-urlencoded", "Content-Length: 100"]) + "token=")
                busy.append(login)
                try await waitUntil("four requests are in progress", timeout: 20) { gate.gate?.counts.busy == 4 }

                let refused = try await offPool { try RawSocket(port: client.port) }
                #expect(await refused.waitUntilPeerCloses(timeout: .seconds(10)) != nil, "the fifth connection is closed at accept")
                #expect(refused.text.isEmpty, "not even an HTTP answer: \(refused.text)")
                await #expect(throws: (any Error).self) { try await client.get("/api/health") }
                #expect(busy.allSatisfy { !$0.peerClosed() }, "busy connections are never the ones closed")

                #expect(gate.gate?.counts.refused ?? 0 >= 1)
                busy.removeFirst()  // one stream ends: there is room again
                try await waitUntil("health answers once a connection is free", timeout: 20) {
                    (try? await client.get("/api/health"))?.status == .ok
                }
            }
        }
    }

    @Test func eventStreamsPastTheirCapAreAnswered503() async throws {
        try await withTempDir { dir in
            var bench = try StatusBench(root: dir)
            bench.config.http.maxEventStreams = 2
            try await withStatusServer(bench.server()) { client async throws in
                var streams: [RawSocket] = []
                for _ in 0..<2 {
                    let stream = try await offPool { try RawSocket(port: client.port) }
                    try stream.send(Self.request("GET /api/events HTTP/1.1", port: client.port))
                    try await waitUntil("the stream starts", timeout: 20) { stream.text.contains("retry: 2000") }
                    streams.append(stream)
                }
                let third = try await client.get("/api/events")
                #expect(third.status == .serviceUnavailable)
                #expect(third.headers[.retryAfter] == "10")
                #expect(try third.json()["error"] as? String
                        == "2 event streams are open ([http] max_event_streams): close a dashboard or try again later")
                #expect(!third.text.contains("\n"), "one line")

                // A client that goes away frees its stream's place at once, not at the stream's next write.
                streams.removeFirst()
                var kept: RawSocket?
                try await waitUntil("a stream is accepted once one closed", timeout: 5) {
                    let attempt = try await offPool { try RawSocket(port: client.port) }
                    try attempt.send(Self.request("GET /api/events HTTP/1.1", port: client.port))
                    try await waitUntil("an answer", timeout: 5) { attempt.text.contains("\r\n\r\n") }
                    if attempt.text.hasPrefix("HTTP/1.1 200 ") { kept = attempt }
                    return kept != nil
                }
                #expect(kept?.text.contains("retry: 2000") == true)
            }
        }
    }

    @Test func idleConnectionsAreClosedAfterTheIdleTimeout() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await withStatusServer(bench.server(idleTimeout: .seconds(1), headerTimeout: .seconds(60))) { client async throws in
                // Connected, nothing sent. (Timed from before the connection: the server's timer starts later.)
                let start = ContinuousClock.now
                let silent = try await offPool { try RawSocket(port: client.port) }
                #expect(await silent.waitUntilPeerCloses(timeout: .seconds(20)) != nil, "an idle connection is closed")
                #expect(ContinuousClock.now - start >= .seconds(1), "not before the idle timeout")

                // Kept alive after an answer, then closed.
                let keepAlive = try await offPool { try RawSocket(port: client.port) }
                try keepAlive.send(Self.request("GET /api/health HTTP/1.1", port: client.port))
                try await waitUntil("health answers", timeout: 20) { keepAlive.text.contains("\"status\":\"ok\"") }
                #expect(!keepAlive.peerClosed())
                #expect(await keepAlive.waitUntilPeerCloses(timeout: .seconds(20)) != nil, "closed after the idle timeout")
            }
        }
    }

    @Test func aRequestTrickledInIsClosedAtTheHeaderTimeout() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            try await withStatusServer(bench.server(idleTimeout: .seconds(60), headerTimeout: .seconds(1))) { client async throws in
                // A head that never ends, a header line every 200 ms.
                let head = try await offPool { try RawSocket(port: client.port) }
                let start = ContinuousClock.now  // before the first byte: the server's timer starts later
                try head.send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:\(client.port)\r\n")
                let headClosed = await Self.trickle(head, "X-Slow: 1\r\n")
                #expect(headClosed != nil, "a head trickled in is closed")
                #expect(ContinuousClock.now - start >= .seconds(1), "not before the header timeout")
                #expect((headClosed ?? .zero) < .seconds(10), "\(String(describing: headClosed))")

                // A body that never ends, a byte every 200 ms (each one a body part, which hummingbird's idle timer counts).
                let body = try await offPool { try RawSocket(port: client.port) }
                try body.send(Self.request("POST /login HTTP/1.1", port: client.port, ["Content-Length: 1000"]))
                let bodyClosed = await Self.trickle(body, "a")
                #expect(bodyClosed != nil, "a body trickled in is closed")
                #expect((bodyClosed ?? .zero) < .seconds(10), "\(String(describing: bodyClosed))")

                // A whole request in time is answered.
                #expect(try await client.get("/api/health").status == .ok)
            }
        }
    }

    @Test func aRequestCutShortIsA400NotAServerError() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir, token: "t0k")  // with a token, /login reads its body
            try await withStatusServer(bench.server()) { client async throws in
                let socket = try await offPool { try RawSocket(port: client.port) }
                try socket.send(Self.request("POST /login HTTP/1.1", port: client.port,
                                             ["Content-Type: application/x-www-form-urlencoded", "Content-Length: 100"]) + "token=t0")
                socket.shutdownWrite()  // the body ends 92 bytes early
                try await waitUntil("an answer", timeout: 20) { socket.text.contains("}") }
                #expect(socket.text.hasPrefix("HTTP/1.1 400 "), "\(socket.text)")
                #expect(socket.text.contains(#"{"error":"the request is malformed or ended early"}"#), "\(socket.text)")
            }
        }
    }

    /// Sends `piece` every 200 ms until the server closes the connection (then returns how long that took) or
    /// 20 s pass (nil).
    static func trickle(_ socket: RawSocket, _ piece: String) async -> Duration? {
        let clock = ContinuousClock(), start = clock.now
        while clock.now - start < .seconds(20) {
            if socket.peerClosed() { return clock.now - start }
            try? socket.send(piece)
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// Opening a source can block: a file another process holds a lease on (Samba's kernel oplocks are leases)
    /// is not opened until the holder lets go, for up to `fs.lease-break-time` (45 s), and an uploader owns the
    /// files it uploads. The status server never opens a job's source (speed and ETA come from the engine's progress
    /// in the store), so with a lease held on every running job's source each job is answered at once and no open
    /// reaches the holder.
    @Test func sourcesHeldByTheirUploaderDoNotStallTheAPI() async throws {
        try await withTempDir { dir in
            let bench = try StatusBench(root: dir)
            let jobs = ProcessInfo.processInfo.activeProcessorCount + 1  // more than the cooperative pool's threads
            var paths: [String] = [], ids: [Int64] = []
            for i in 0..<jobs {
                let job = try await bench.drop("held\(i).mov", contents: Data(repeating: 1, count: 4096))
                paths.append(bench.inbox.appendingPathComponent("held\(i).mov").path)
                _ = try await bench.store.claimNext(now: Date())
                let id = try #require(job.id)
                try await bench.store.updateProgress(id, fraction: 0.5)
                ids.append(id)
            }
            let holder = try LeaseHolder(paths)
            defer { holder.release() }
            try await waitUntil("the leases are held", timeout: 20) { holder.output.contains("held\n") }
            let running = ids
            try await withStatusServer(bench.server()) { client async throws in
                let clock = ContinuousClock(), start = clock.now
                for id in running {
                    let answer = try await client.get("/api/jobs/\(id)")
                    #expect(answer.status == .ok && answer.text.contains("\"state\":\"running\""), "\(answer.text)")
                }
                #expect(try await client.get("/api/dashboard").status == .ok)
                #expect(clock.now - start < .seconds(10), "answered after \(clock.now - start)")
            }
            #expect(!holder.output.contains("opened"), "the status server opened a source: \(holder.output)")
        }
    }
}

/// The connection gate of the server a test runs (set by the factory).
final class GateBox: @unchecked Sendable {
    var gate: ConnectionGate?
}

/// A Python process holding a write lease on each of `paths` (`fcntl(F_SETLEASE, F_WRLCK)`): another open of
/// them blocks until ``release()`` (or the kernel's lease-break-time). It prints `held` once it holds them and
/// `opened PATH` when someone tries to open one.
final class LeaseHolder: @unchecked Sendable {
    static let script = """
        import fcntl, os, signal, sys, threading
        F_SETLEASE, F_GETLEASE = 1024, 1025
        fds = {os.open(p, os.O_WRONLY): p for p in sys.argv[1:]}
        seen = set()
        def broken(*_):
            for fd, path in fds.items():
                if path not in seen and fcntl.fcntl(fd, F_GETLEASE) != fcntl.F_WRLCK:
                    seen.add(path)
                    print("opened " + path, flush=True)
        signal.signal(signal.SIGIO, broken)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGIO])  # the test process may block it in its children
        for fd in fds: fcntl.fcntl(fd, F_SETLEASE, fcntl.F_WRLCK)
        print("held", flush=True)
        sys.stdin.read()
        for fd in fds: fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        """
    let process = ChildProcess()
    private let input = Pipe()
    private let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("wf-lease-\(UUID().uuidString)")

    init(_ paths: [String]) throws {
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script] + paths
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        try process.run()
    }

    var output: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }

    /// Lets go of the leases (the blocked opens go on) and ends the process.
    func release() {
        try? input.fileHandleForWriting.close()
    }

    deinit {
        release()
        try? FileManager.default.removeItem(at: outURL)
    }
}
