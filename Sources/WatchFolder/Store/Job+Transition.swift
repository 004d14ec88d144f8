import Foundation

/// The rules of ``JobTransition``, shared by every ``JobStore`` backend so that they apply exactly the same ones: the
/// backend reads the job, calls ``Job/apply(_:now:)``, and writes the job, its event and its effects in one transaction.
extension Job {
    /// What a transition asks the store to write besides the job itself.
    struct TransitionWrites {
        /// The event to record (after the job is updated), if any.
        var event: JobEvent.Kind?
        /// The file effect of the job's video, if any (its sidecars follow it: ``SQLiteJobStore/effect(_:for:now:)``).
        var effect: PlannedEffect?
        /// `retried`: the sidecars recorded without an error are forgotten (the retry is the video's alone).
        var forgetSidecars = false
    }

    /// Applies `change` to this job as of `now`: state, fields, lease. Does not touch `updatedAt` (the caller sets it).
    /// - Throws: ``StoreError`` `invalidTransition` when the job's state does not allow `change` (nothing changed).
    mutating func apply(_ change: JobTransition, now: Date) throws -> TransitionWrites {
        var writes = TransitionWrites()
        switch change {
        case let .publishing(location, encoder, manifest):
            guard state == .running else { throw StoreError.invalid(self, "publish") }
            state = .publishing
            outputLocation = location
            self.encoder = encoder ?? self.encoder
            self.manifest = manifest
            progress = 1
        case let .completed(location, master, onSuccess):
            guard state == .publishing else { throw StoreError.invalid(self, "complete") }
            state = .completed
            outputLocation = location
            masterLocation = master
            error = nil
            finishedAt = now
            cancelRequested = false
            writes.event = .completed
            writes.effect = onSuccess
        case let .retry(error, encoder, delay):
            guard state == .running || state == .publishing else { throw StoreError.invalid(self, "retry") }
            state = .queued
            self.error = error
            self.encoder = encoder ?? self.encoder
            nextAttemptAt = now.addingTimeInterval(delay)
            progress = 0
            writes.event = .retrying
        case let .failed(error, encoder, fail):
            guard !state.isFinal else { throw StoreError.invalid(self, "fail") }
            state = .failed
            self.error = error
            self.encoder = encoder ?? self.encoder
            finishedAt = now
            cancelRequested = false
            writes.event = .failed
            writes.effect = fail
        case let .cancelled(reason):
            guard !state.isFinal else { throw StoreError.invalid(self, "cancel") }
            state = .cancelled
            error = reason
            finishedAt = now
            cancelRequested = false
            writes.event = .cancelled
        case let .requeued(refund):
            guard state == .running || state == .publishing else { throw StoreError.invalid(self, "requeue") }
            state = .queued
            if refund { attempts = max(0, attempts - 1) }
            progress = 0
            nextAttemptAt = nil
        case let .retried(restore):
            guard state == .failed || state == .cancelled else { throw StoreError.invalid(self, "retry") }
            if let placed = restore?.placed, restore?.kind == .restore {
                sourcePath = SQLiteJobStore.renamed(sourcePath, to: placed.lastPathComponent)
            }
            state = .queued
            attempts = 0
            error = nil
            progress = 0
            finishedAt = nil
            nextAttemptAt = nil
            masterLocation = nil  // outputLocation and manifest stay: a package already there is published, not rebuilt
            released = false
            // Sidecars stay in the failed folder: the retry is the video's alone (its metadata is kept). One the
            // job could not use stays recorded, so the retry fails with the same reason until it is re-uploaded.
            writes.forgetSidecars = true
            writes.event = .queued
            writes.effect = restore
        }
        if let effect = writes.effect, effect.kind != .restore { released = true }
        if state != .running && state != .publishing {
            leaseToken = nil  // the lease ends with the run; `node` stays: who ran it
            leaseExpiresAt = nil
            if state == .queued { node = nil }
        }
        return writes
    }

    /// The row of the video's own effect `planned`, made by a transition of this job at `now`.
    func effectRow(_ planned: PlannedEffect, now: Date) -> FileEffect {
        FileEffect(jobId: id ?? 0, kind: planned.kind, source: planned.source, target: planned.target,
                   placed: planned.placed, device: device, inode: inode, note: planned.note, now: now)
    }
}
