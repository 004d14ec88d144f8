import Foundation

/// How a job is recorded and leased, shared by every ``JobStore`` backend so that they follow exactly the same rules
/// (README "Nodes and leases"): the backend reads, calls these, and writes in one transaction.
extension Job {
    /// A fresh lease token: random and positive, so a node that lost its lease never holds the new one.
    static func newLeaseToken() -> Int64 { Int64.random(in: 1...Int64.max) }

    /// Makes this job `node`'s under a new lease that ends after its `leaseSeconds` from `now`.
    mutating func lease(to node: NodeIdentity, now: Date) {
        self.node = node.name
        leaseToken = Self.newLeaseToken()
        leaseExpiresAt = now.addingTimeInterval(node.leaseSeconds)
    }

    /// Takes this job (as it is now) over for `node` when it runs or publishes under `stale`'s lease still, and that
    /// lease has run out, or, with `previousLife`, was `node`'s own. False, and nothing changed, otherwise.
    mutating func takeOver(from stale: Job, by node: NodeIdentity, now: Date, previousLife: Bool) -> Bool {
        guard state == .running || state == .publishing, leaseToken == stale.leaseToken else { return false }
        let expired = (leaseExpiresAt ?? .distantPast) < now
        guard expired || (previousLife && self.node == node.name) else { return false }
        lease(to: node, now: now)
        updatedAt = now
        return true
    }

    /// What recording `file` does, given the jobs that hold its path (not released, or with a move still pending).
    enum Recording {
        /// The same file seen again: nothing to write.
        case seen
        /// Replaced while queued: the queued job, which now follows the new file, to update.
        case follows(Job)
        /// A new job to insert.
        case new(Job)
    }

    /// How `file` is recorded, given `known`, the jobs that hold its path.
    static func recording(_ file: InboxFile, known: [Job], now: Date) -> Recording {
        let fingerprint = file.fingerprint
        let device = Int64(bitPattern: fingerprint.device), inode = Int64(bitPattern: fingerprint.inode)
        if known.contains(where: { fingerprint.isVersion(inode: $0.inode, size: $0.size, mtimeNanoseconds: $0.mtimeNs) }) {
            return .seen
        }
        if var queued = known.first(where: { $0.state == .queued }) {
            queued.device = device
            queued.inode = inode
            queued.size = fingerprint.size
            queued.mtimeNs = fingerprint.mtimeNanoseconds
            queued.metadata = file.metadata
            queued.updatedAt = now
            return .follows(queued)
        }
        var job = Job(sourcePath: file.relativePath, device: device, inode: inode, size: fingerprint.size,
                      mtimeNs: fingerprint.mtimeNanoseconds, now: now)
        job.metadata = file.metadata
        return .new(job)
    }
}
