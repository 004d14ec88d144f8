import Foundation
import PostgresNIO

/// The store's records read from and written to PostgreSQL rows: the same columns as the SQLite schema.
enum PostgresRecords {
    /// The columns of `job`, in the order ``job(_:)`` and ``update(_:)`` use.
    static let jobColumns = """
        id, source_path, device, inode, size, mtime_ns, state, attempts, error, progress, speed, eta_seconds,
        created_at, updated_at, started_at, finished_at, next_attempt_at, output_location, master_location, encoder,
        manifest, cancel_requested, released, metadata, node, lease_token, lease_expires_at
        """

    static func job(_ row: PostgresRow) throws -> Job {
        let r = row.makeRandomAccess()
        let stateName = try r["state"].decode(String.self)
        guard let state = Job.State(rawValue: stateName) else {
            throw PostgresStoreError("the job store has a job in an unknown state \(stateName)")
        }
        var job = Job(sourcePath: try r["source_path"].decode(String.self), device: try r["device"].decode(Int64.self),
                      inode: try r["inode"].decode(Int64.self), size: try r["size"].decode(Int64.self),
                      mtimeNs: try r["mtime_ns"].decode(Int64.self), now: try r["created_at"].decode(Date.self))
        job.id = try r["id"].decode(Int64.self)
        job.state = state
        job.attempts = try r["attempts"].decode(Int.self)
        job.error = try r["error"].decode(String?.self)
        job.progress = try r["progress"].decode(Double.self)
        job.speed = try r["speed"].decode(Double?.self)
        job.etaSeconds = try r["eta_seconds"].decode(Double?.self)
        job.updatedAt = try r["updated_at"].decode(Date.self)
        job.startedAt = try r["started_at"].decode(Date?.self)
        job.finishedAt = try r["finished_at"].decode(Date?.self)
        job.nextAttemptAt = try r["next_attempt_at"].decode(Date?.self)
        job.outputLocation = try r["output_location"].decode(String?.self)
        job.masterLocation = try r["master_location"].decode(String?.self)
        job.encoder = try r["encoder"].decode(String?.self)
        job.manifest = try r["manifest"].decode(String?.self)
        job.cancelRequested = try r["cancel_requested"].decode(Bool.self)
        job.released = try r["released"].decode(Bool.self)
        job.metadata = try r["metadata"].decode(String?.self)
        job.node = try r["node"].decode(String?.self)
        job.leaseToken = try r["lease_token"].decode(Int64?.self)
        job.leaseExpiresAt = try r["lease_expires_at"].decode(Date?.self)
        return job
    }

    static func jobs(_ rows: [PostgresRow]) throws -> [Job] { try rows.map(job) }

    /// Writes every column of `job` but its id and creation time (the row must exist).
    static func update(_ job: Job) -> PostgresQuery {
        """
        UPDATE job SET source_path = \(job.sourcePath), device = \(job.device), inode = \(job.inode), size = \(job.size),
          mtime_ns = \(job.mtimeNs), state = \(job.state.rawValue), attempts = \(job.attempts), error = \(job.error),
          progress = \(job.progress), speed = \(job.speed), eta_seconds = \(job.etaSeconds), updated_at = \(job.updatedAt),
          started_at = \(job.startedAt), finished_at = \(job.finishedAt), next_attempt_at = \(job.nextAttemptAt),
          output_location = \(job.outputLocation), master_location = \(job.masterLocation), encoder = \(job.encoder),
          manifest = \(job.manifest), cancel_requested = \(job.cancelRequested), released = \(job.released),
          metadata = \(job.metadata), node = \(job.node), lease_token = \(job.leaseToken),
          lease_expires_at = \(job.leaseExpiresAt)
        WHERE id = \(job.id ?? 0)
        """
    }

    static func event(_ row: PostgresRow) throws -> JobEvent {
        let r = row.makeRandomAccess()
        let typeName = try r["type"].decode(String.self)
        guard let type = JobEvent.Kind(rawValue: typeName) else {
            throw PostgresStoreError("the job store has an event of an unknown type \(typeName)")
        }
        return JobEvent(id: try r["id"].decode(Int64.self), uid: try r["uid"].decode(String.self),
                        jobId: try r["job_id"].decode(Int64.self), type: type, payload: try r["payload"].decode(String.self),
                        createdAt: try r["created_at"].decode(Date.self))
    }

    static func insert(_ event: JobEvent) -> PostgresQuery {
        """
        INSERT INTO event (uid, job_id, type, payload, created_at)
        VALUES (\(event.uid), \(event.jobId), \(event.type.rawValue), \(event.payload), \(event.createdAt))
        """
    }

    static func effect(_ row: PostgresRow) throws -> FileEffect {
        let r = row.makeRandomAccess()
        let kindName = try r["kind"].decode(String.self)
        guard let kind = FileEffect.Kind(rawValue: kindName) else {
            throw PostgresStoreError("the job store has a file effect of an unknown kind \(kindName)")
        }
        var effect = FileEffect(jobId: try r["job_id"].decode(Int64.self), kind: kind, source: URL(fileURLWithPath: "/"),
                                target: nil, device: try r["device"].decode(Int64.self), inode: try r["inode"].decode(Int64.self),
                                note: try r["note"].decode(String?.self), now: try r["created_at"].decode(Date.self))
        effect.id = try r["id"].decode(Int64.self)
        effect.source = try r["source"].decode(String.self)
        effect.target = try r["target"].decode(String?.self)
        effect.placed = try r["placed"].decode(String?.self)
        effect.doneAt = try r["done_at"].decode(Date?.self)
        return effect
    }

    static func insert(_ effect: FileEffect) -> PostgresQuery {
        """
        INSERT INTO effect (job_id, kind, source, target, placed, device, inode, note, created_at, done_at)
        VALUES (\(effect.jobId), \(effect.kind.rawValue), \(effect.source), \(effect.target), \(effect.placed),
                \(effect.device), \(effect.inode), \(effect.note), \(effect.createdAt), \(effect.doneAt))
        """
    }

    static func sidecar(_ row: PostgresRow) throws -> Sidecar {
        let r = row.makeRandomAccess()
        return Sidecar(name: try r["name"].decode(String.self), format: try r["format"].decode(String.self),
                       language: try r["language"].decode(String?.self), bytes: try r["bytes"].decode(Int64.self),
                       device: try r["device"].decode(Int64.self), inode: try r["inode"].decode(Int64.self),
                       mtimeNs: try r["mtime_ns"].decode(Int64.self), error: try r["error"].decode(String?.self),
                       jobId: try r["job_id"].decode(Int64.self))
    }

    static func insert(_ sidecar: Sidecar) -> PostgresQuery {
        """
        INSERT INTO sidecar (job_id, name, format, language, bytes, device, inode, mtime_ns, error)
        VALUES (\(sidecar.jobId), \(sidecar.name), \(sidecar.format), \(sidecar.language), \(sidecar.bytes),
                \(sidecar.device), \(sidecar.inode), \(sidecar.mtimeNs), \(sidecar.error))
        """
    }
}
