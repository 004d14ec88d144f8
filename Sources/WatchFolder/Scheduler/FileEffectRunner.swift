public import Foundation
public import Logging

/// Carries out ``FileEffect`` rows after their transition committed. Every effect is idempotent: run it again
/// after a crash at any point and the files converge (moved once, error file written once, nothing lost).
///
/// No move replaces anything (``NoReplaceMove``): when the preferred name is taken, the next free one
/// (`NAME-<job id>.EXT`, `NAME-<job id>-2.EXT`...) is recorded in the effect's `placed` first, then used. Each move
/// is on disk (its folders fsynced) before the effect is marked done. The file work runs off the cooperative pool.
public struct FileEffectRunner: Sendable {
    public let store: any JobStore
    public let logger: Logger
    /// The lock file whose slot `<effect id>` a process holds while it carries out that effect (``SlotLock``): the
    /// daemon and `watchfolder retry` never move one file at once. Nil: this process alone runs effects.
    public let lockFile: URL?
    /// The node that claims each effect in the store before it carries it out (a cluster's nodes all see every
    /// pending effect; one carries it out). Nil: no claim (tests of the effects themselves).
    public let node: NodeIdentity?

    /// Effects being carried out in this process right now.
    private static let running = EffectLocks()

    public init(store: any JobStore, logger: Logger, lockFile: URL? = nil, node: NodeIdentity? = nil) {
        self.store = store
        self.logger = logger
        self.lockFile = lockFile
        self.node = node
    }

    /// Runs every pending effect (of job `id` only, when given), oldest first; a failing effect is logged and
    /// stays pending for the next run.
    /// - Returns: False when an effect failed (or the store could not be read): the caller runs them again later.
    @discardableResult
    public func runPending(job id: Int64? = nil) async -> Bool {
        let effects: [FileEffect]
        do { effects = try await store.pendingEffects(job: id) } catch {
            logger.warning("cannot read pending file effects: \(error)")
            return false
        }
        var allDone = true
        for effect in effects {
            // The scheduler's sweep and a job's own run may reach one effect at once: one carries it out, the other
            // waits for it and then reads the effect again (done, or with the name the first one chose).
            guard let effectID = effect.id else { continue }
            await Self.running.lock(effectID)
            var slot: SlotLock?
            do {
                // Another process (the CLI's retry, the daemon) may be carrying it out: wait for it, then read again.
                if let lockFile { slot = try await SlotLock.acquire(lockFile, slot: effectID) }
                if let current = try await store.pendingEffects(job: effect.jobId).first(where: { $0.id == effectID }) {
                    if let node, !(try await store.claimEffect(effectID, node: node.name, now: Date(), for: node.leaseSeconds)) {
                        // Another node carries it out; it is looked at again later, in case that node dies.
                        allDone = false
                    } else {
                        try await run(current)
                    }
                }
            } catch {
                var logger = logger
                logger[metadataKey: "wf.job.id"] = "\(effect.jobId)"
                logger.warning("file effect \(effect.kind.rawValue) of \(effect.source) failed: \(error)")
                allDone = false
            }
            slot?.release()
            await Self.running.unlock(effectID)
        }
        return allDone
    }

    /// One effect to the end: each name it chooses is recorded before it is used; done once the move is on disk.
    private func run(_ effect: FileEffect) async throws {
        guard let effectID = effect.id else { return }
        var effect = effect
        for _ in 0..<FreeName.limit {
            let current = effect
            switch try await BlockingIO.run({ try Self.apply(current) }) {
            case .done:
                try await store.markEffectDone(effectID)
                return
            case let .place(url):
                try await store.placeEffect(effectID, at: url.path)
                effect.placed = url.path
                if effect.kind == .restore, let target = effect.target, url.path != target {
                    logger.notice("\(target) is taken in the inbox: the source of job \(effect.jobId) is restored as \(url.path)",
                                  metadata: ["wf.job.id": "\(effect.jobId)"])
                }
            }
        }
    }

    /// What ``apply(_:)`` needs next.
    enum Step: Sendable, Equatable {
        /// The effect is carried out (or has nothing left to do).
        case done
        /// Record this name in the effect, then apply it again.
        case place(URL)
    }

    /// Applies one effect to the file system as far as it can without the store.
    static func apply(_ effect: FileEffect) throws -> Step {
        let source = URL(fileURLWithPath: effect.source)
        if effect.kind == .delete {
            guard isSameFile(source, effect) else { return .done }
            try FileOps.unlink(source.path)
            try FileOps.fsync(source.deletingLastPathComponent().path, directory: true)
            return .done
        }
        guard let target = effect.target.map(URL.init(fileURLWithPath:)) else { return .done }
        let tag = "e\(effect.id ?? 0)"
        // A restore's source is in the failed folder, which only the service writes; a moved-away file is gone.
        let present = effect.kind == .restore ? FileOps.lstat(source.path) != nil : isSameFile(source, effect)
        guard let placed = effect.placed.map(URL.init(fileURLWithPath:)) else {
            return present ? .place(try freeName(target, effect)) : .done
        }
        guard present else {
            // Moved by an earlier run that stopped before it was recorded (or the file is gone).
            try NoReplaceMove.removeStaging(for: placed, tag: tag)
            try finish(effect, placed: placed)
            return .done
        }
        if effect.kind == .fail, try !writeErrorFile(effect, beside: placed) {
            return .place(try freeName(target, effect))
        }
        switch try NoReplaceMove.move(source, to: placed, tag: tag) {
        case .moved:
            try finish(effect, placed: placed)
            return .done
        case .taken:
            if effect.kind == .fail { try removeOwnErrorFile(effect, beside: placed) }
            return .place(try freeName(target, effect))
        }
    }

    /// What follows a move: a failed file's reason beside it; a restored file's reason removed.
    private static func finish(_ effect: FileEffect, placed: URL) throws {
        switch effect.kind {
        case .fail:
            if FileOps.lstat(placed.path) != nil { _ = try writeErrorFile(effect, beside: placed) }
        case .restore:
            try FileOps.unlinkIfPresent(effect.source + ".error.txt")
        case .archive, .delete:
            break
        }
    }

    /// The first free name from `target` on. For `fail`, the name's `.error.txt` must be free too, or hold this
    /// effect's own note (written by a run that stopped before the move).
    static func freeName(_ target: URL, _ effect: FileEffect) throws -> URL {
        try FreeName.first(target, jobID: effect.jobId, keepExtension: true) { url in
            FileOps.lstat(url.path) == nil && (effect.kind != .fail || isOwnOrFree(errorFile(url), effect))
        }
    }

    static func errorFile(_ url: URL) -> URL { URL(fileURLWithPath: url.path + ".error.txt") }

    private static func isOwnOrFree(_ errorFile: URL, _ effect: FileEffect) -> Bool {
        guard FileOps.lstat(errorFile.path) != nil else { return true }
        return (try? Data(contentsOf: errorFile)) == Data((effect.note ?? "").utf8)
    }

    /// Writes `<placed>.error.txt` (fsynced, never replacing another file). False when another file has that name.
    private static func writeErrorFile(_ effect: FileEffect, beside placed: URL) throws -> Bool {
        let file = errorFile(placed)
        if isOwnOrFree(file, effect), FileOps.lstat(file.path) != nil { return true }
        guard FileOps.lstat(file.path) == nil else { return false }
        try DurableTree.makeDirectories(placed.deletingLastPathComponent())
        let staging = NoReplaceMove.staging(for: file, tag: "e\(effect.id ?? 0)")
        try FileOps.unlinkIfPresent(staging.path)
        try Data((effect.note ?? "").utf8).write(to: staging)  // fsynced by the move
        switch try NoReplaceMove.move(staging, to: file, tag: "e\(effect.id ?? 0)") {
        case .moved: return true
        case .taken:
            try FileOps.unlinkIfPresent(staging.path)
            return isOwnOrFree(file, effect)
        }
    }

    private static func removeOwnErrorFile(_ effect: FileEffect, beside placed: URL) throws {
        let file = errorFile(placed)
        if FileOps.lstat(file.path) != nil, isOwnOrFree(file, effect) { try FileOps.unlink(file.path) }
    }

    /// True when `url` is the job's file (same inode: the node that recorded it may number the filesystem with another
    /// device, ``Fingerprint``).
    static func isSameFile(_ url: URL, _ effect: FileEffect) -> Bool {
        guard let st = FileOps.lstat(url.path) else { return false }
        return Int64(bitPattern: UInt64(st.st_ino)) == effect.inode
    }
}

/// One lock per effect id, held while that effect is carried out in this process; waiters are resumed in order.
private actor EffectLocks {
    private var waiting: [Int64: [CheckedContinuation<Void, Never>]] = [:]

    func lock(_ id: Int64) async {
        guard waiting[id] != nil else {
            waiting[id] = []
            return
        }
        await withCheckedContinuation { waiting[id, default: []].append($0) }
    }

    func unlock(_ id: Int64) {
        guard var queue = waiting[id], !queue.isEmpty else {
            waiting[id] = nil
            return
        }
        let next = queue.removeFirst()
        waiting[id] = queue
        next.resume()
    }
}
