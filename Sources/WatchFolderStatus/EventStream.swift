import Foundation
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
/// Changes come from the store's ``JobStore/changes()`` ticks, not polling; the keep-alive tick also catches
/// changes made by another process (the CLI).
struct EventStream: Sendable {
    let store: any JobStore
    let keepAlive: Duration
    let slots: EventStreamSlots

    init(store: any JobStore, keepAlive: Duration = .seconds(15), maxStreams: Int) {
        self.store = store
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
        if let lastEventID { start = lastEventID } else { start = try await store.summary().lastEventID }
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no",
        ]
        let store = self.store, keepAlive = self.keepAlive
        return Response(status: .ok, headers: headers, body: .init { writer in
            _ = slot  // held while the stream is open
            try await writer.write(ByteBuffer(string: "retry: 2000\n: watchfolder events after \(start)\n\n"))
            let (ticks, tick) = AsyncStream.makeStream(of: Tick.self, bufferingPolicy: .bufferingNewest(1))
            connection.closeFuture.whenComplete { _ in
                tick.yield(.closed)
                tick.finish()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in store.changes() { tick.yield(.changed) }
                }
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
                        let events = try await store.events(after: last, limit: 200)
                        for event in events {
                            try await writer.write(ByteBuffer(string: Self.frame(event)))
                            last = event.id ?? last
                        }
                        if events.count < 200 { break }
                    }
                    let running = try await store.list(state: .running, limit: 100)
                    for job in running where sentProgress[job.id ?? 0] != job.progress {
                        sentProgress[job.id ?? 0] = job.progress
                        try await writer.write(ByteBuffer(string: Self.progressFrame(JobResource(job))))
                    }
                    let ids = Set(running.compactMap(\.id))
                    sentProgress = sentProgress.filter { ids.contains($0.key) }
                }
                group.cancelAll()
            }
            if connection.isActive { try await writer.finish(nil) }
        })
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
