import Foundation
import Logging
import Pipeline

extension Scheduler {
    private enum Outcome: Sendable {
        case built(BuiltPackage)
        case failed(any Error)
        case stopped(StopReason)
    }

    /// Runs one claimed job to its next state; records every result itself.
    func execute(_ job: Job, stops: AsyncStream<StopReason>) async {
        guard let id = job.id else { return }
        let settings = self.settings
        let source = settings.inbox.appendingPathComponent(job.sourcePath)
        let jobDir = settings.workDirectory(id)
        defer { try? FileManager.default.removeItem(at: jobDir) }
        // The one open of the source: beneath the inbox, no symlink on the path, a regular file, the one recorded.
        let opened: SourceFile
        do {
            opened = try SourceFile.open(job.sourcePath, beneath: settings.inbox)
        } catch where error.code == .missingInput {
            await record(job, .cancelled(reason: "the source file disappeared before it was processed"), "job cancelled")
            return
        } catch {
            await fail(job, reason: "\(error)", encoder: nil, settings: settings)
            return
        }
        guard Self.isRecorded(opened, job) else {
            // Replaced or rewritten since it was recorded: not read. Intake records a replacement again once it
            // settles (the queued job follows it), so the next attempt waits at least that long.
            await fail(job, reason: "\(opened.name): the source changed since it was recorded (replaced or rewritten); it was not read",
                       encoder: nil, settings: settings, notBefore: settings.settleSeconds + 1)
            return
        }
        let sidecars: [Sidecar]
        let subtitles: [SubtitleSidecar]
        do {
            sidecars = try await store.sidecars(job: id)
            if let broken = sidecars.first(where: { $0.error != nil }), let reason = broken.error {
                // The upload itself is wrong: no attempt can succeed until it is replaced.
                await record(job, .failed(error: reason, encoder: nil,
                                          effect: settings.failEffect(for: job, reason: reason, encoder: nil)),
                             "job failed", level: .error, ["wf.error": "\(reason)"])
                return
            }
            subtitles = try Self.openSubtitles(sidecars, of: job, inbox: settings.inbox)
        } catch {
            await fail(job, reason: "\(error)", encoder: nil, settings: settings)
            return
        }
        if let location = job.outputLocation, await publisher.holdsPackage(at: location, package: packageInfo(job)) {
            // An earlier attempt built the package and moved it to its location; only publishing failed (S3).
            await publish(job, encoder: job.encoder, manifest: job.manifest, from: jobDir.appendingPathComponent("package"),
                          resumingAt: location)
            return
        }
        // A GPU encoder that fails is replaced by libx264 inside the engine, in the same attempt (the manifest's
        // `fallbackReason` says why): every attempt asks for the configured hardware.
        var planned = BuildRequest(source: source, output: jobDir.appendingPathComponent("package"),
                                   work: jobDir.appendingPathComponent("tmp"), options: settings.options, sourceFile: opened,
                                   jobId: job.id)
        planned.subtitles = subtitles
        let request = planned
        try? FileManager.default.removeItem(at: jobDir)
        try? FileManager.default.createDirectory(at: jobDir, withIntermediateDirectories: true)

        let (progressStream, progress) = AsyncStream.makeStream(of: TranscodeProgress.self, bufferingPolicy: .bufferingNewest(1))
        let outcome = await withTaskGroup(of: Outcome?.self) { group -> Outcome in
            group.addTask {
                defer { progress.finish() }
                do {
                    return .built(try await self.builder.build(request) { progress.yield($0) })
                } catch {
                    return .failed(error)
                }
            }
            group.addTask {
                for await reason in stops { return .stopped(reason) }
                return nil
            }
            group.addTask {
                var last = ContinuousClock.now - .seconds(10)
                for await update in progressStream where ContinuousClock.now - last > .seconds(1) {
                    last = .now
                    try? await self.store.updateProgress(id, fraction: update.fraction, speed: update.speed, eta: update.eta,
                                                         lease: job.leaseToken)
                }
                return nil
            }
            var result: Outcome = .failed(CancellationError())
            while let next = await group.next() {
                if let next { result = next; break }
            }
            group.cancelAll()
            return result
        }

        switch outcome {
        case let .built(package):
            noteEncoder(package.encoder)
            let built = ManifestView(json: package.manifestJSON)
            WatchFolderMetrics.packageBuilt(sourceBytes: job.size,
                                            renditionBytes: built?.renditions?.reduce(0) { $0 + ($1.bytes ?? 0) } ?? 0,
                                            encoder: built?.encoder ?? package.encoder ?? "unknown",
                                            transcodeSeconds: built?.timings?.transcodeSeconds ?? 0, speed: built?.timings?.speed ?? 0)
            // The package names its job (`job_id` in manifest.json): only then is it ever "already published".
            let output = request.output
            let manifest: String
            do {
                manifest = try await BlockingIO.run {
                    try PackageStamp.stamp(output, jobID: id, manifestJSON: package.manifestJSON, metadata: job.metadata,
                                           sidecars: sidecars)
                }
            } catch {
                await fail(job, reason: "cannot write the package's manifest.json: \(error)", encoder: package.encoder,
                           settings: settings)
                return
            }
            await publish(job, encoder: package.encoder, manifest: manifest, masterName: package.masterName,
                          from: output)
        case let .stopped(reason) where reason == .cancelRequested:
            await record(job, .cancelled(reason: "cancelled by request"), "job cancelled")
        case let .stopped(reason) where reason == .leaseLost:
            return  // another node has the job now (or will, once the lease ends): nothing of this run is kept
        case .stopped:
            await record(job, .requeued(refund: true), "job requeued (shutdown)")
        case let .failed(error):
            if Task.isCancelled {
                await record(job, .requeued(refund: true), "job requeued (stopped)")
                return
            }
            if let error = error as? PipelineError, error.code == .badSidecar {
                // A subtitle sidecar that does not parse: no attempt can succeed until it is replaced.
                let reason = error.description
                await record(job, .failed(error: reason, encoder: nil,
                                          effect: settings.failEffect(for: job, reason: reason, encoder: nil)),
                             "job failed", level: .error, ["wf.error": "\(reason)"])
                return
            }
            await fail(job, reason: "\(error)", encoder: nil, settings: settings)
        }
    }

    /// Opens the job's subtitle sidecars beside its source, beneath the inbox, each checked against what intake
    /// recorded (a sidecar replaced or rewritten since is not read).
    static func openSubtitles(_ sidecars: [Sidecar], of job: Job, inbox: URL) throws -> [SubtitleSidecar] {
        try sidecars.filter { $0.format != "json" }.map { sidecar in
            let file = try SourceFile.open(SQLiteJobStore.renamed(job.sourcePath, to: sidecar.name), beneath: inbox)
            guard isSame(file, inode: sidecar.inode, size: sidecar.bytes, mtimeNs: sidecar.mtimeNs) else {
                throw PipelineError(.refusedInput, file: sidecar.name,
                                    "the sidecar changed since it was recorded (replaced or rewritten); it was not read")
            }
            return SubtitleSidecar(name: sidecar.name, format: sidecar.format, language: sidecar.language, file: file)
        }
    }

    /// True when `file` is the job's recorded file: same inode, size and modification time (any node's device number).
    static func isRecorded(_ file: SourceFile, _ job: Job) -> Bool {
        isSame(file, inode: job.inode, size: job.size, mtimeNs: job.mtimeNs)
    }

    /// True when `file` is the one recorded with this inode, size and modification time (``Fingerprint/isVersion``).
    private static func isSame(_ file: SourceFile, inode: Int64, size: Int64, mtimeNs: Int64) -> Bool {
        let s = file.status
        return Fingerprint(device: UInt64(s.device), inode: UInt64(s.inode), size: Int64(s.size),
                           mtimeNanoseconds: Int64(s.mtimeNanoseconds))
            .isVersion(inode: inode, size: size, mtimeNanoseconds: mtimeNs)
    }

    /// Retries with backoff (at least `notBefore` seconds), or fails for good after the last attempt.
    func fail(_ job: Job, reason: String, encoder: String?, settings: SchedulerSettings, notBefore: TimeInterval = 0) async {
        let line = reason.split(separator: "\n").first.map(String.init) ?? reason
        if job.attempts < settings.maxAttempts {
            let delay = max(settings.backoff(afterAttempt: job.attempts), notBefore)
            await record(job, .retry(error: line, encoder: encoder, delay: delay), "job retrying",
                         level: .warning, ["wf.error": "\(line)", "wf.retry.in": "\(delay)"])
        } else {
            await record(job, .failed(error: line, encoder: encoder,
                                      effect: settings.failEffect(for: job, reason: line, encoder: encoder)),
                         "job failed", level: .error, ["wf.error": "\(line)"])
        }
    }

    /// The job as publishers see it.
    func packageInfo(_ job: Job, masterName: String = "master.m3u8") -> PackageInfo {
        PackageInfo(jobID: job.id ?? 0, sourcePath: job.sourcePath, createdAt: job.createdAt, masterName: masterName)
    }

    /// running → publishing → completed, then the source's `on_success` effect. The package built in `directory`
    /// goes to a newly reserved location, or to `resumingAt`, where an earlier attempt already moved it. The name
    /// is recorded before it is claimed; when it turns out to be another job's, the next one is recorded, then claimed.
    func publish(_ job: Job, encoder: String?, manifest: String?, masterName: String = "master.m3u8", from directory: URL,
                 resumingAt resumed: String? = nil) async {
        guard let id = job.id else { return }
        let info = packageInfo(job, masterName: masterName)
        do {
            let location: String
            if let resumed { location = resumed } else { location = try await publisher.reserve(info) }
            let publishing = try await store.transition(id, .publishing(location: location, encoder: encoder, manifest: manifest),
                                                        lease: job.leaseToken)
            log(publishing, resumed == nil ? "job publishing" : "job publishing resumed (the package is not built again)",
                ["wf.output": "\(location)"])
            let published = try await publisher.publish(directory, to: location, package: info, relocate: relocation(publishing))
            await complete(job, published)
        } catch let error as StoreError where error.code == .leaseLost {
            log(job, "job not published: \(error)", level: .warning)
        } catch {
            var current = (try? await store.job(id)) ?? job
            current.leaseToken = job.leaseToken  // this run's lease, whatever the store holds now
            await fail(current, reason: "publishing failed: \(error)", encoder: encoder, settings: settings)
        }
    }

    /// Records a job's new output location (its name was another job's) before the publisher claims it.
    func relocation(_ job: Job) -> @Sendable (String) async throws -> Void {
        { [store] location in
            try await store.relocate(job.id ?? 0, to: location, lease: job.leaseToken)
            self.log(job, "the name is another package's: publishing under the next free one", ["wf.output": "\(location)"])
        }
    }

    /// publishing → completed with the `on_success` effect, carried out at once.
    func complete(_ job: Job, _ published: PublishedLocation) async {
        await record(job, .completed(location: published.location, master: published.master,
                                     effect: settings.successEffect(for: job)),
                     "job completed", ["wf.output": "\(published.location)"])
    }

    /// Applies a transition, logs it, and carries out the file effects it recorded.
    func record(_ job: Job, _ change: JobTransition, _ message: String, level: Logger.Level = .info,
                _ metadata: Logger.Metadata = [:]) async {
        guard let id = job.id else { return }
        // Every change recorded here ends the run and its lease: from now on the heartbeat neither renews it nor
        // takes its ending for a lease lost to another node.
        leaseStopped(id)
        // A store that does not answer (a cluster's PostgreSQL restarting, SQLite busy past its timeout) is asked
        // again until two thirds of the lease have passed; after that the job is taken over like any other whose
        // lease ran out (completed if its package is published), so the outcome is never lost.
        let deadline = ContinuousClock.now + .milliseconds(Int64(settings.node.leaseSeconds * 2000 / 3))
        var delay = Duration.milliseconds(200)
        while true {
            do {
                let updated = try await store.transition(id, change, lease: job.leaseToken)
                var meta = metadata
                meta["wf.job.state"] = "\(updated.state.rawValue)"
                meta["wf.job.attempts"] = "\(updated.attempts)"
                if let encoder = updated.encoder { meta["wf.job.encoder"] = "\(encoder)" }
                log(updated, message, level: level, meta)
                await effects.runPending(job: id)
                return
            } catch let error as StoreError where error.code == .leaseLost {
                log(job, "transition not recorded: \(error)", level: .warning)
                return
            } catch where !(error is StoreError) && !Task.isCancelled && ContinuousClock.now + delay < deadline {
                if delay == .milliseconds(200) {
                    log(job, "cannot record transition yet, retrying: \(error)", level: .warning)
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            } catch {
                log(job, "cannot record transition: \(error)", level: .error)
                return
            }
        }
    }
}
