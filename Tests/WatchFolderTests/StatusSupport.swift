import Foundation
import TestSupport
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import Pipeline
import ServiceLifecycleTestKit
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// A store, folders and a config for one status server under test (port 0).
struct StatusBench {
    let root: URL
    var config: Config
    let store: SQLiteJobStore
    var inbox: URL { config.inbox.path }

    init(root: URL, token: String? = nil) throws {
        self.root = root
        var config = Config(
            inbox: .init(path: root.appendingPathComponent("inbox"), failedPath: root.appendingPathComponent("failed")),
            state: .init(path: root.appendingPathComponent("state")),
            outbox: .init(path: root.appendingPathComponent("outbox")),
            transcode: .init(), s3: nil, webhooks: [], http: .init(), log: .init(), sourcePath: "test")
        config.inbox.archivePath = root.appendingPathComponent("archive")
        config.http.port = 0
        config.http.token = token
        self.config = config
        store = try SQLiteJobStore(url: config.state.databaseURL)
        for dir in [config.inbox.path, config.outbox.path, config.inbox.failedPath] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }

    /// A server factory for ``withStatusServer(_:_:)``.
    func server(keepAlive: Duration = .seconds(15), idleTimeout: Duration = .seconds(30),
                headerTimeout: Duration = .seconds(10)) -> (@escaping @Sendable (Int) async -> Void) -> StatusServer {
        { onRunning in
            var logger = Logger(label: "status-test")
            logger.logLevel = .warning
            let webhooks = WebhookQueue(pool: store.pool)
            var server = StatusServer(config: config, store: store, webhookBacklog: { try await webhooks.pendingCount() },
                                      logger: logger, onRunning: onRunning)
            server.keepAlive = keepAlive
            server.idleTimeout = idleTimeout
            server.headerTimeout = headerTimeout
            return server
        }
    }

    /// Writes `path` into the inbox (`bytes`, or a few bytes of text) and records it as a queued job.
    @discardableResult
    func drop(_ path: String, contents: Data? = nil) async throws -> Job {
        let url = inbox.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (contents ?? Data("video \(path)".utf8)).write(to: url)
        let file = try #require(InboxFile.stat(path, in: inbox))
        return try #require(try await store.enqueue([file]).first)
    }

    /// Takes the oldest queued job and completes it with a hand-made package (manifest, poster, thumbnails).
    @discardableResult
    func complete(thumbnails: Int = 2) async throws -> Job {
        let job = try #require(try await store.claimNext(now: Date()))
        let id = try #require(job.id)
        let package = config.outbox.path.appendingPathComponent("pkg\(id)")
        try FileManager.default.createDirectory(at: package.appendingPathComponent("thumbnails"), withIntermediateDirectories: true)
        try Self.jpeg("poster \(id)").write(to: package.appendingPathComponent("poster.jpg"))
        let thumbs = (1...max(1, thumbnails)).prefix(thumbnails).map { String(format: "thumbnails/thumb_%02d.jpg", $0) }
        for (i, t) in thumbs.enumerated() { try Self.jpeg("thumb \(i + 1) of \(id)").write(to: package.appendingPathComponent(t)) }
        try Data("#EXTM3U\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        let manifest = """
            {"renditions":[{"name":"360p","width":640,"height":360,"bitrate":800000,"codecs":"avc1.64001E","playlist":"360p/index.m3u8"}],
             "thumbnails":\(JSON.encode(thumbs)),"poster":"poster.jpg","durationSeconds":2,"encoder":"libx264",
             "timings":{"probeSeconds":0.1,"transcodeSeconds":1.5,"packageSeconds":0.1,"totalSeconds":1.7,"speed":1.33}}
            """
        try await store.transition(id, .publishing(location: package.path, encoder: "libx264", manifest: manifest))
        return try await store.transition(id, .completed(location: package.path, master: package.appendingPathComponent("master.m3u8").path, effect: nil))
    }

    /// Bytes that start like a JPEG, with `tag` inside to tell them apart.
    static func jpeg(_ tag: String) -> Data { Data([0xFF, 0xD8, 0xFF, 0xE0]) + Data(tag.utf8) }
}

/// An HTTP response as curl saw it.
struct HTTPResult: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var data: Data
    var text: String { String(decoding: data, as: UTF8.self) }
    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(text)")
    }
}

/// Talks to a status server under test with curl (an independent HTTP client; no redirects followed, no cookie jar).
struct StatusClient: Sendable {
    let port: Int

    func get(_ uri: String, token: String? = nil, headers: HTTPFields = [:]) async throws -> HTTPResult {
        try await send(uri, .get, token: token, headers: headers)
    }

    func send(_ uri: String, _ method: HTTPRequest.Method, token: String? = nil, headers: HTTPFields = [:],
              body: String? = nil) async throws -> HTTPResult {
        var arguments = ["-s", "-i", "--max-time", "20", "-X", method.rawValue]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        for field in headers { arguments += ["-H", "\(field.name): \(field.value)"] }
        if let body { arguments += ["--data-binary", body] }
        let result = try await runTool("curl", arguments + ["http://127.0.0.1:\(port)\(uri)"])
        let raw = result.data
        guard let split = raw.range(of: Data("\r\n\r\n".utf8)) else {
            throw StatusTestError("curl \(method) \(uri): no HTTP response (exit \(result.status))")
        }
        let head = String(decoding: raw[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let code = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var fields = HTTPFields()
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { continue }
            fields.append(HTTPField(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return HTTPResult(status: HTTPResponse.Status(code: code), headers: fields, data: Data(raw[split.upperBound...]))
    }
}

/// Runs `server` (its real `run()`, on port 0) while `body` talks to it, then shuts it down gracefully.
func withStatusServer<T: Sendable>(_ make: (@escaping @Sendable (Int) async -> Void) -> StatusServer,
                                   _ body: @Sendable (StatusClient) async throws -> T) async throws -> T {
    let (ports, port) = AsyncStream.makeStream(of: Int.self)
    let server = make { port.yield($0); port.finish() }
    return try await testGracefulShutdown { trigger in
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await server.run(); return nil }
            var bound: Int?
            for await p in ports { bound = p }
            guard let bound else { throw StatusTestError("the status server did not start") }
            do {
                let value = try await body(StatusClient(port: bound))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                return value
            } catch {
                trigger.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}

/// A process started now and collected later (curl streaming SSE, chromium).
final class RunningProcess: @unchecked Sendable {
    let process = ChildProcess()
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("wf-status-\(UUID().uuidString)")

    init(_ executable: String, _ arguments: [String]) throws {
        guard let url = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map({ URL(fileURLWithPath: String($0)).appendingPathComponent(executable) })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw StatusTestError("\(executable) is not installed; `make test` installs it")
        }
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        process.executableURL = url
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("wf-status-\(UUID().uuidString).err")
    /// What the process wrote on stderr.
    var errors: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

    deinit { try? FileManager.default.removeItem(at: errURL) }

    /// Output so far.
    var output: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }

    /// Waits (without blocking a thread) until the process exits or `timeout` passes (then kills it).
    @discardableResult
    func finish(timeout: Duration = .seconds(60)) async -> String {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.signalGroup(SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        defer { try? FileManager.default.removeItem(at: outURL) }
        return output
    }

    /// Waits until the output contains `text` (or `timeout`).
    func waitFor(_ text: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

struct StatusTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command to completion and returns its stdout (python parsers, ffmpeg fixtures).
func runTool(_ executable: String, _ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, output: String, data: Data) {
    let process = ChildProcess()
    guard let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map({ URL(fileURLWithPath: String($0)).appendingPathComponent(executable) })
        .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw StatusTestError("\(executable) is not installed; `make test` installs it")
    }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("wf-tool-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: out) }
    process.executableURL = path
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: out)
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    let data = (try? Data(contentsOf: out)) ?? Data()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self), data)
}

/// Parses Prometheus text with the reference parser (`prometheus_client` from PyPI) and returns every sample as
/// `name{label="value",...}` → value (labels sorted).
func parsePrometheus(_ text: String) async throws -> [String: Double] {
    let script = """
        import sys, json
        from prometheus_client.parser import text_string_to_metric_families
        out = {}
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
                out[s.name + ("{" + labels + "}" if labels else "")] = s.value
        print(json.dumps(out))
        """
    let result = try await runTool("python3", ["-c", script], stdin: text)
    guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Double] else {
        throw StatusTestError("prometheus_client could not parse /metrics (exit \(result.status)):\n\(text)")
    }
    return object
}

extension StatusBench {
    /// A scheduler over this bench's store with the real engine, publishing to the outbox.
    func scheduler(configure: (inout SchedulerSettings) -> Void = { _ in }) -> Scheduler {
        var settings = SchedulerSettings(config: config)
        settings.shutdownGraceSeconds = 0
        configure(&settings)
        var logger = Logger(label: "status-test.scheduler")
        logger.logLevel = .warning
        return Scheduler(store: store, builder: TranscoderBuilder(logger: logger), publisher: OutboxPublisher(config: config.outbox),
                         settings: settings, logger: logger)
    }

    /// Makes a `testsrc2` + `sine` clip in the inbox with the ffmpeg CLI (not yet recorded as a job).
    func clip(_ name: String, seconds: Double = 2, size: String = "640x360") async throws -> URL {
        let url = inbox.appendingPathComponent(name)
        let result = try await runTool("ffmpeg", [
            "-y", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=25:duration=\(seconds)",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", url.path,
        ])
        guard result.status == 0 else { throw StatusTestError("ffmpeg could not make \(name)") }
        return url
    }

    /// Records an inbox file as a queued job.
    @discardableResult
    func enqueue(_ name: String) async throws -> Job {
        let file = try #require(InboxFile.stat(name, in: inbox))
        let created = try await store.enqueue([file])
        return try #require(created.first)
    }
}

/// Runs `scheduler` while `body` runs, then shuts it down gracefully.
func withScheduler<T: Sendable>(_ scheduler: Scheduler, _ body: @Sendable () async throws -> T) async throws -> T {
    try await testGracefulShutdown { trigger in
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await scheduler.run(); return nil }
            let value = try await body()
            trigger.triggerGracefulShutdown()
            try await group.waitForAll()
            return value
        }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
