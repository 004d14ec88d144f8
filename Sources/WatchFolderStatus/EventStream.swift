import Foundation
import GRDB
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import WatchFolder

/// `GET /api/events`: Server-Sent Events of job transitions and progress.
///
/// - Transitions are the store's durable events (`job.queued`, `job.started`, `job.progress` every 10 %,
///   `job.retrying`, `job.completed`, `job.failed`, `job.cancelled`), each with `id:` = the event's sequence
///   number and `data:` = the job payload. A client that reconnects with `Last-Event-ID` (browsers do it
///   themselves) gets every event it missed, in order, then the live ones.
/// - `event: progress` (no `id:`) carries the live progress of running jobs, at most about once a second per
///   job: `{"id", "progress", "speed", "eta_seconds", "state"}`.
/// - A `: keep-alive` comment every 15 s keeps proxies from closing the stream.
/// - At most `[http] max_event_streams` streams are open at once; past that a request is answered 503 with
///   `Retry-After`.
///
/// Changes are observed with a GRDB `ValueObservation` on the pool the daemon writes through, not polled; the
/// keep-alive tick also catches changes made by another process (the CLI).
struct EventStream: Sendable {
    let reader: StatusReader
    let keepAlive: Duration
    let slots: EventStreamSlots

    init(reader: StatusReader, keepAlive: Duration = .seconds(15), maxStreams: Int) {
        self.reader = reader
        self.keepAlive = keepAlive
        slots = EventStreamSlots(limit: maxStreams)
    }

    private enum Tick: Sendable { case changed, keepAlive, closed }

    /// The streaming response for a client that last saw event `lastEventID` (nil: only new events); it ends
    /// when `connection` closes.
    func response(lastEventID: Int64?, connection: any Channel) async throws -> Response {
        guard let slot = slots.take() else {
            throw APIError(.serviceUnavailable, "\(slots.limit) event streams are open ([http] max_event_streams): close a dashboard or try again later",
                           headers: [.retryAfter: "10"])
        }
        let start: Int64
        if let lastEventID { start = lastEventID } else { start = try await reader.summary().lastEventID }
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no",
        ]
        let pool = reader.pool, keepAlive = self.keepAlive
        return Response(status: .ok, headers: headers, body: .init { writer in
            _ = slot  // held while the stream is open
            try await writer.write(ByteBuffer(string: "retry: 2000\n: watchfolder events after \(start)\n\n"))
            let (ticks, tick) = AsyncStream.makeStream(of: Tick.self, bufferingPolicy: .bufferingNewest(1))
            connection.closeFuture.whenComplete { _ in
                tick.yield(.closed)
                tick.finish()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await Self.observe(pool, tick) }
                group.addTask {
                    while (try? await Task.sleep(for: keepAlive)) != nil { tick.yield(.keepAlive) }
                }
                var last = start
                var sentProgress: [Int64: Double] = [:]
                for await next in ticks.cancelOnGracefulShutdown() {
                    if next == .closed { break }
                    if next == .keepAlive { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                    // Durable events first (in order), then the live progress of running jobs.
                    while true {
                        let events = try await reader.events(after: last, limit: 200)
                        for event in events {
                            try await writer.write(ByteBuffer(string: Self.frame(event)))
                            last = event.id ?? last
                        }
                        if events.count < 200 { break }
                    }
                    let running = try await reader.page(state: .running, limit: 100, before: nil)
                    for job in running where sentProgress[job.id ?? 0] != job.progress {
                        sentProgress[job.id ?? 0] = job.progress
                        try await writer.write(ByteBuffer(string: Self.progressFrame(await reader.resource(job))))
                    }
                    let ids = Set(running.compactMap(\.id))
                    sentProgress = sentProgress.filter { ids.contains($0.key) }
                }
                group.cancelAll()
            }
            if connection.isActive { try await writer.finish(nil) }
        })
    }

    /// Yields `.changed` whenever a transaction changes the events or the running jobs' progress.
    private static func observe(_ pool: DatabasePool, _ tick: AsyncStream<Tick>.Continuation) async {
        let observation = ValueObservation.tracking { db in
            try String.fetchAll(db, sql: """
                SELECT 'event ' || COALESCE(MAX(id), 0) FROM event
                UNION ALL SELECT id || ' ' || progress FROM job WHERE state = 'running'
                """)
        }.removeDuplicates()
        do {
            for try await _ in observation.values(in: pool) { tick.yield(.changed) }
        } catch {}
    }

    /// One durable event: `id:`, `event:` (its type), `data:` (the job payload, one line).
    static func frame(_ event: JobEvent) -> String {
        "id: \(event.id ?? 0)\nevent: \(event.type.rawValue)\ndata: \(event.payload.replacingOccurrences(of: "\n", with: " "))\n\n"
    }

    static func progressFrame(_ job: JobResource) -> String {
        struct Progress: Encodable {
            var id: Int64
            var state: String
            var progress: Double
            var speed: Double?
            var etaSeconds: Double?
            enum CodingKeys: String, CodingKey { case id, state, progress, speed, etaSeconds = "eta_seconds" }
        }
        let body = JSON.encode(Progress(id: job.id, state: job.state, progress: job.progress, speed: job.speed,
                                        etaSeconds: job.etaSeconds))
        return "event: progress\ndata: \(body)\n\n"
    }
}
