import Foundation
public import Logging

/// `watchfolder retry` and the status API's retry, in one place: requeues a failed or cancelled job with fresh
/// attempts; a failed job's source moves back from the failed folder into the inbox, under its own name, or under
/// `NAME-<id>.EXT` (then `NAME-<id>-2.EXT`...) when a newer upload has that name. The job's source follows.
public enum JobRetry {
    /// What a retry did.
    public struct Outcome: Sendable {
        /// The job after the retry (its `sourcePath` is the name the source has now).
        public var job: Job
        /// The source's path before the retry (relative to the inbox).
        public var previousSource: String
        /// The move back could not be made yet (it stays pending; the daemon repeats it).
        public var movePending: Bool

        /// The inbox name the source was restored under when its own was taken; nil when it kept its name.
        public var restoredAs: String? { job.sourcePath == previousSource ? nil : job.sourcePath }

        /// One line for people: `job 3 requeued: clip.mp4`, or how it was renamed.
        public var message: String {
            let id = job.id ?? 0
            if let restoredAs {
                return "job \(id) requeued: \(previousSource) is taken in the inbox, so its source was restored as \(restoredAs)"
            }
            return "job \(id) requeued: \(job.sourcePath)"
        }
    }

    /// Requeues job `id` and carries out the move back at once.
    /// - Throws: ``StoreError`` (`noSuchJob`, `invalidTransition`), or the store's error.
    public static func run(_ id: Int64, store: any JobStore, settings: SchedulerSettings, logger: Logger) async throws -> Outcome {
        guard let job = try await store.job(id) else { throw StoreError.noSuchJob(id) }
        var effect: PlannedEffect?
        if job.state == .failed {
            let failedFile = try await store.lastPlacement(job: id, kind: .fail).map(URL.init(fileURLWithPath:))
            var restore = settings.restoreEffect(for: job, from: failedFile)
            if let target = restore.target {
                // Chosen now, in the transition: a newer upload keeps its name, and the job never follows it.
                let free = try await BlockingIO.run {
                    try FreeName.first(target, jobID: id, keepExtension: true) { FileOps.lstat($0.path) == nil }
                }
                if free != target { restore.placed = free }
            }
            effect = restore
        }
        try await store.transition(id, .retried(effect: effect))
        // The move back this retry recorded (a daemon may have carried it out already). Only it counts: once it is
        // done, a daemon may run the job again and record the job's next move before this returns.
        let restore = Set(try await store.pendingEffects(job: id).filter { $0.kind == .restore }.compactMap(\.id))
        await FileEffectRunner(store: store, logger: logger, lockFile: settings.effectLockFile, node: settings.node).runPending(job: id)
        let updated = try await store.job(id) ?? job
        return Outcome(job: updated, previousSource: job.sourcePath,
                       movePending: try await store.pendingEffects(job: id).contains { restore.contains($0.id ?? -1) })
    }
}
