import CInotify
import Logging

extension IntakeEngine {
    /// Applies a batch of inotify events; a `Q_OVERFLOW` among them ends in a full rescan.
    func handle(_ events: [InotifyEvent]) {
        WatchFolderMetrics.inboxEventsRead(events.count)
        let now = monotonicNanoseconds()
        var overflow = false
        for event in events {
            if event.has(CInotify_IN_Q_OVERFLOW) {
                overflow = true
                continue
            }
            guard pausedReason == nil else { return }
            guard let dir = watches[event.wd] else { continue }
            if event.has(CInotify_IN_IGNORED) {
                forgetWatch(event.wd)
                continue
            }
            if event.name.isEmpty {
                if dir.isEmpty && event.has(CInotify_IN_DELETE_SELF | CInotify_IN_MOVE_SELF) {
                    return pause("inbox \(layout.root) was deleted or moved away")
                }
                if dir.isEmpty && event.has(CInotify_IN_UNMOUNT) { return pausedByUnmount() }
                continue
            }
            let path = InboxLayout.join(dir, event.name)
            if event.has(CInotify_IN_ISDIR) {
                if event.has(CInotify_IN_CREATE | CInotify_IN_MOVED_TO) {
                    addDirectory(path, now: now)
                } else if event.has(CInotify_IN_MOVED_FROM | CInotify_IN_DELETE) {
                    removeDirectory(path)
                }
                continue
            }
            guard layout.isTracked(path) else { continue }
            if event.has(CInotify_IN_CLOSE_WRITE | CInotify_IN_MOVED_TO) {
                if let fingerprint = layout.fingerprint(path) {
                    tracker.restart(path, fingerprint: fingerprint, now: now)
                }
            } else if event.has(CInotify_IN_MODIFY) {
                tracker.touch(path, now: now)
            } else if event.has(CInotify_IN_MOVED_FROM | CInotify_IN_DELETE) {
                forget(path, subtree: false)
            }
        }
        if overflow {
            logger.warning("inotify event queue overflowed; rescanning the inbox")
            rescan(replacingBatch: true)
        }
    }

    /// A folder appeared (created or moved in): watch it and everything under it, and scan it once, since
    /// files may have landed before its watch existed.
    func addDirectory(_ path: String, now: UInt64) {
        guard !layout.isIgnoredDirectory(path) else { return }
        do {
            let found = try layout.scan(path) { watch($0) }
            for file in found.files {
                tracker.observe(file.relativePath, fingerprint: file.fingerprint, now: now)
            }
            logger.debug("new folder in the inbox", metadata: ["wf.path": "\(path)", "wf.files": "\(found.files.count)"])
        } catch {
            logger.debug("new folder vanished before it was scanned", metadata: ["wf.path": "\(path)"])
        }
        fallBackToPollingIfWatchesRanOut()
    }

    /// A folder left (deleted or moved away): drop its watches and forget what waited under it.
    func removeDirectory(_ path: String) {
        if let inotify {
            for (wd, dir) in watches where dir == path || dir.hasPrefix(path + "/") {
                try? Inotify.removeWatch(inotify.raw, wd: wd)
                forgetWatch(wd)
            }
        }
        forget(path, subtree: true)
    }
}
