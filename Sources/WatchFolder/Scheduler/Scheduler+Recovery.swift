import Foundation
import Logging
import Synchronization

extension Scheduler {
    /// Brings back the jobs a previous life of this node left running or publishing (kill -9, power loss), and other
    /// nodes' jobs whose lease ran out; never a job whose lease a live node holds. Then removes work folders of jobs
    /// that are not running any more and carries out pending file effects.
    func recover() async throws {
        for job in try await store.jobs(in: .publishing) + store.jobs(in: .running) {
            await takeOver(job, previousLife: true)
        }
        // Work folders of jobs that are not running any more (a crash between steps).
        let workRoot = settings.workRoot
        if let leftovers = try? FileManager.default.contentsOfDirectory(atPath: workRoot.path) {
            for name in leftovers { try? FileManager.default.removeItem(at: workRoot.appendingPathComponent(name)) }
        }
        await effects.runPending()
    }

    /// Takes `job` over under a lease of this node when the store lets it (its lease ran out, or, at start, it was
    /// this node's), then finishes it where it can: a cancelled job is cancelled, a package already published
    /// completes, a package still in this node's work folder or at its location is published, anything else is
    /// requeued (the attempt counts) or fails once it has used all its attempts.
    func takeOver(_ stale: Job, previousLife: Bool) async {
        let settings = self.settings
        let job: Job
        do {
            guard let taken = try await store.takeOver(stale, now: Date(), node: settings.node, previousLife: previousLife)
            else { return }  // a live node's
            job = taken
        } catch {
            log(stale, "cannot take over the job: \(error)", level: .error)
            return
        }
        guard let id = job.id, adopt(id, lease: job.leaseToken) else { return }
        defer { release(id) }
        if stale.node != settings.node.name || !previousLife {
            log(job, "job taken over: the lease of \(stale.node ?? "its node") ran out", level: .warning,
                ["wf.node.previous": "\(stale.node ?? "")"])
        }
        let jobDir = settings.workDirectory(id)
        defer { try? FileManager.default.removeItem(at: jobDir) }
        if job.cancelRequested {
            await record(job, .cancelled(reason: "cancelled by request"), "job cancelled")
            return
        }
        if job.state == .publishing, let location = job.outputLocation {
            let info = packageInfo(job)
            if let published = try? await publisher.isPublished(at: location, package: info) {
                log(job, "job was already published before the restart")
                await complete(job, published)
                return
            }
            // The package is still in the work folder, or already moved to `location` (S3: the upload then
            // resumes from the outbox copy); the publisher fails when it is in neither.
            let package = jobDir.appendingPathComponent("package")
            if let published = try? await publisher.publish(package, to: location, package: info,
                                                            relocate: relocation(job)) {
                log(job, "job publishing resumed after the restart")
                await complete(job, published)
                return
            }
        }
        if job.attempts >= settings.maxAttempts {
            let reason = "the daemon stopped \(job.attempts) time(s) while processing this file"
            await record(job, .failed(error: reason, encoder: nil,
                                      effect: settings.failEffect(for: job, reason: reason, encoder: nil)),
                         "job failed", level: .error, ["wf.error": "\(reason)"])
        } else {
            await record(job, .requeued(refund: false),
                         previousLife ? "job requeued after a restart" : "job requeued: its node's lease ran out")
        }
    }

    /// Every third of `lease_seconds`: one heartbeat (this node is up; the leases of its running jobs renewed). Jobs
    /// whose lease moved to another node stop at once and write nothing more; other nodes' jobs whose lease ran out
    /// are taken over. Beside it a watchdog stops the running jobs when no heartbeat has gone through for most of a
    /// lease, whether the store refuses the writes or does not answer at all, so that they stop before their leases
    /// end and the node that takes them over is the only one to publish them. An idle node makes this one query.
    func heartbeatLoop() async {
        lastRenewal.withLock { $0 = .now }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.leaseWatchdog() }
            var failing = false
            while !Task.isCancelled {
                let node = settings.node
                let started = ContinuousClock.now
                do {
                    // A store that does not answer at all (its server gone) is said as one that refuses.
                    let leases = heldLeases, encoder = encoderInUse, store = store
                    guard let beat = try await withDeadline(Self.heartbeatInterval(node), {
                        try await store.heartbeat(node: node, leases: leases, encoder: encoder, now: Date())
                    }) else { throw DeadlineExceeded("the job store", after: Self.heartbeatInterval(node)) }
                    lastRenewal.withLock { $0 = started }
                    if failing {
                        failing = false
                        logger.notice("the job store answers again: leases renewed")
                    }
                    // A job this node finished meanwhile (its own transition ended the lease) is not lost: it holds
                    // no lease here any more.
                    let held = heldLeases
                    for id in beat.lost where held[id] != nil {
                        logger.warning("job stopped: its lease moved to another node; this node writes nothing more for it",
                                       metadata: ["wf.job.id": "\(id)"])
                        stop(id, .leaseLost)
                    }
                    // Each finished beside the heartbeat (a resumed upload may take long), its lease renewed meanwhile.
                    for job in beat.expired where !held.keys.contains(job.id ?? 0) {
                        group.addTask { await self.takeOver(job, previousLife: false) }
                    }
                } catch {
                    if !failing {
                        failing = true
                        logger.error("cannot renew this node's leases in the job store: \(error); retrying every \(Self.heartbeatInterval(node))")
                    }
                }
                try? await Task.sleep(until: started + Self.heartbeatInterval(node), clock: .continuous)
            }
            group.cancelAll()
        }
    }

    /// A heartbeat every third of the lease.
    static func heartbeatInterval(_ node: NodeIdentity) -> Duration { .milliseconds(Int64(node.leaseSeconds * 1000 / 3)) }

    /// Stops every running job once the last renewal is older than two thirds of a lease (the next heartbeat would
    /// come too late), and says so once per job.
    private func leaseWatchdog() async {
        while !Task.isCancelled {
            let node = settings.node
            let lease = Duration.milliseconds(Int64(node.leaseSeconds * 1000))
            let limit = lastRenewal.withLock { $0 } + lease - Self.heartbeatInterval(node)
            if ContinuousClock.now >= limit {
                for id in heldLeases.keys {
                    logger.error("job stopped: its lease could not be renewed before it ended (the job store does not answer)",
                                 metadata: ["wf.job.id": "\(id)"])
                    stop(id, .leaseLost)
                    leaseStopped(id)
                }
                try? await Task.sleep(for: Self.heartbeatInterval(node) / 4)
            } else {
                try? await Task.sleep(until: limit, clock: .continuous)
            }
        }
    }
}
