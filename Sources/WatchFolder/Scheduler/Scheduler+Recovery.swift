import Foundation
import Logging

extension Scheduler {
    /// Brings back jobs a previous life left running or publishing (kill -9, power loss), removes their work
    /// folders, then carries out pending file effects.
    func recover() async throws {
        let settings = self.settings
        for job in try await store.jobs(in: .publishing) + store.jobs(in: .running) {
            guard let id = job.id else { continue }
            let jobDir = settings.workDirectory(id)
            defer { try? FileManager.default.removeItem(at: jobDir) }
            if job.cancelRequested {
                await record(job, .cancelled(reason: "cancelled by request"), "job cancelled")
                continue
            }
            if job.state == .publishing, let location = job.outputLocation {
                let info = packageInfo(job)
                if let published = try? await publisher.isPublished(at: location, package: info) {
                    log(job, "job was already published before the restart")
                    await complete(job, published)
                    continue
                }
                // The package is still in the work folder, or already moved to `location` (S3: the upload then
                // resumes from the outbox copy); the publisher fails when it is in neither.
                let package = jobDir.appendingPathComponent("package")
                if let published = try? await publisher.publish(package, to: location, package: info,
                                                                relocate: relocation(job)) {
                    log(job, "job publishing resumed after the restart")
                    await complete(job, published)
                    continue
                }
            }
            if job.attempts >= settings.maxAttempts {
                let reason = "the daemon stopped \(job.attempts) time(s) while processing this file"
                await record(job, .failed(error: reason, encoder: nil,
                                          effect: settings.failEffect(for: job, reason: reason, encoder: nil)),
                             "job failed", level: .error, ["wf.error": "\(reason)"])
            } else {
                await record(job, .requeued(refund: false), "job requeued after a restart")
            }
        }
        // Work folders of jobs that are not running any more (a crash between steps).
        if let leftovers = try? FileManager.default.contentsOfDirectory(atPath: settings.workRoot.path) {
            for name in leftovers { try? FileManager.default.removeItem(at: settings.workRoot.appendingPathComponent(name)) }
        }
        await effects.runPending()
    }
}
