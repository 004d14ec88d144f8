import Foundation
import GRDB

extension SQLiteJobStore {
    /// Replaces the sidecars recorded with job `id`.
    static func record(_ sidecars: [Sidecar], job id: Int64, _ db: Database) throws {
        try Sidecar.filter(Column("job_id") == id).deleteAll(db)
        for var sidecar in sidecars {
            sidecar.jobId = id
            try sidecar.insert(db)
        }
    }

    /// The move or unlink of a sidecar that follows its video's `effect`: the same folder, the sidecar's own name and
    /// identity. A sidecar goes to the failed folder as a plain move (the video's `.error.txt` says why); a restore
    /// leaves sidecars where they are.
    static func effect(_ effect: PlannedEffect, for sidecar: Sidecar, now: Date) -> FileEffect? {
        guard sidecar.device != 0 || sidecar.inode != 0 else { return nil }  // never opened
        let source = effect.source.deletingLastPathComponent().appendingPathComponent(sidecar.name)
        let target = effect.target?.deletingLastPathComponent().appendingPathComponent(sidecar.name)
        let kind: FileEffect.Kind
        switch effect.kind {
        case .archive, .fail: kind = .archive
        case .delete: kind = .delete
        case .restore: return nil
        }
        return FileEffect(jobId: sidecar.jobId, kind: kind, source: source, target: target, device: sidecar.device,
                          inode: sidecar.inode, now: now)
    }
}
