import Logging

extension IntakeEngine {
    /// Lists the whole inbox (adding watches as it goes with inotify) and reconciles it with what is tracked.
    ///
    /// Files already reported with the same fingerprint are stable now; every other file waits its settle window.
    /// The rescan ends in one ``IntakeEvent/rescanned(_:)`` once they all settled or the window passed.
    /// - Parameter replacingBatch: true for start-up, overflow and resume; a poll pass while a previous pass
    ///   is still settling only feeds the settle waits.
    func rescan(replacingBatch: Bool) {
        if replacingBatch { WatchFolderMetrics.inboxRescanned() }
        let now = monotonicNanoseconds()
        let previousWatches = watches
        if replacingBatch { watches = [:] }
        let found: (files: [InboxFile], directories: [String])
        do {
            found = try layout.scan { watch($0) }
        } catch {
            return pause("cannot read the inbox: \(error)")
        }
        if replacingBatch, let inotify {
            // Watches of folders that are gone (their IN_IGNORED may have been lost in an overflow).
            for wd in previousWatches.keys where watches[wd] == nil {
                try? Inotify.removeWatch(inotify.raw, wd: wd)
            }
        }
        fallBackToPollingIfWatchesRanOut()
        if case .polling(let interval, _) = mode { nextPoll = now + interval }

        var present = Set<String>()
        var stable: [InboxFile] = []
        var waiting = Set<String>()
        for file in found.files {
            present.insert(file.relativePath)
            if !tracker.contains(file.relativePath) && known[file.relativePath] == file.fingerprint {
                stable.append(file)
            } else {
                tracker.observe(file.relativePath, fingerprint: file.fingerprint, now: now)
                waiting.insert(file.relativePath)
            }
        }
        known = known.filter { present.contains($0.key) }
        if replacingBatch || batch == nil {
            batch = RescanBatch(deadline: now + tracker.settle, settled: stable, waiting: waiting)
        }
        logger.debug("inbox rescanned", metadata: [
            "wf.files": "\(found.files.count)", "wf.folders": "\(found.directories.count)",
        ])
        settleDue(now: now)
    }

    /// Reports every file whose settle window ended with its fingerprint unchanged; restarts the others.
    func settleDue(now: UInt64) {
        for (path, fingerprint) in tracker.popDue(now: now) {
            guard let current = layout.fingerprint(path) else {
                logger.trace("file vanished before it settled", metadata: ["wf.path": "\(path)"])
                forget(path, subtree: false)
                continue
            }
            if current != fingerprint {
                tracker.restart(path, fingerprint: current, now: now)
                continue
            }
            if layout.isIgnoredFile(path) {
                // A sidecar: known once settled, never an upload of its own.
                known[path] = current
                batch?.waiting.remove(path)
                continue
            }
            if hasUnsettledSidecar(path) {
                // Its sidecar is still arriving: the video waits another window with it.
                tracker.restart(path, fingerprint: current, now: now)
                continue
            }
            known[path] = current
            if batch?.waiting.remove(path) != nil {
                batch?.settled.append(InboxFile(relativePath: path, fingerprint: current))
            } else {
                logger.trace("file settled", metadata: ["wf.path": "\(path)"])
                emit(.settled(withSidecars([InboxFile(relativePath: path, fingerprint: current)])[0]))
            }
        }
        if let finished = batch, finished.waiting.isEmpty || now >= finished.deadline {
            batch = nil
            emit(.rescanned(withSidecars(finished.settled.filter { !layout.isIgnoredFile($0.relativePath) })))
        }
    }
}
