import Foundation
import TestSupport
import Testing
@testable import WatchFolder

/// A webhook endpoint config with a fresh secret.
func webhookConfig(_ url: String, events: [String]? = nil, secret: String = WebhookSigner.generateSecret()) -> Config.Webhook {
    var hook = Config.Webhook(url: url, secret: secret)
    if let events { hook.events = events }
    return hook
}

/// Event uids of the store, oldest first, optionally only those of the given types.
func eventUIDs(_ store: SQLiteJobStore, types: Set<String>? = nil) async throws -> [String] {
    try await store.events(after: 0, limit: 10_000).filter { types?.contains($0.type.rawValue) ?? true }.map(\.uid)
}

/// Drives jobs through the store as the scheduler does: one completed (with a manifest), one retried then failed,
/// one cancelled while queued. Returns the job ids.
@discardableResult
func driveJobs(_ store: SQLiteJobStore, progressSteps: Int = 0) async throws -> (completed: Int64, failed: Int64, cancelled: Int64) {
    let jobs = try await store.enqueue([file("a.mp4", inode: 1), file("b.mp4", inode: 2), file("c.mp4", inode: 3)])
    let (a, b, c) = (jobs[0].id!, jobs[1].id!, jobs[2].id!)
    _ = try await store.requestCancel(c)
    let first = try #require(try await store.claimNext(now: Date()))
    #expect(first.id == a)
    for step in 0..<progressSteps {
        try await store.updateProgress(a, fraction: Double(step + 1) / Double(progressSteps))
    }
    try await store.transition(a, .publishing(location: "/out/a", encoder: "libx264", manifest: sampleManifest))
    try await store.transition(a, .completed(location: "/out/a", master: "/out/a/master.m3u8", effect: nil))
    _ = try #require(try await store.claimNext(now: Date()))
    try await store.transition(b, .retry(error: "decoder exploded", encoder: "libx264", delay: 0))
    _ = try #require(try await store.claimNext(now: Date()))
    try await store.transition(b, .failed(error: "decoder exploded again", encoder: "libx264", effect: nil))
    return (a, b, c)
}

let sampleManifest = """
    {"version":1,"durationSeconds":2.0,"encoder":"libx264","master":"master.m3u8",
     "renditions":[{"name":"360p","height":360},{"name":"240p","height":240}],
     "thumbnails":["thumbnails/thumb_01.jpg"],"poster":"poster.jpg",
     "timings":{"probeSeconds":0.01,"transcodeSeconds":1.5,"packageSeconds":0.1,"totalSeconds":1.61,"speed":1.2}}
    """
