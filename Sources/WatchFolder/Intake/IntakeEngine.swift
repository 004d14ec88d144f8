import CInotify
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The intake's state machine, driven by one thread: inotify (or polling) → settle waits → events.
///
/// Not `Sendable`: it lives on the intake thread (``Intake/run()``), or on a test's thread that calls ``step()``.
/// Every decision reads the clock once per step, so the whole machine is a loop of `poll(2)` and bookkeeping.
final class IntakeEngine {
    enum Mode: Equatable {
        case inotify
        case polling(intervalNanoseconds: UInt64, reason: String)
    }

    /// Files of the rescan in progress: those already stable and those waiting for their settle window.
    struct RescanBatch {
        var deadline: UInt64
        var settled: [InboxFile]
        var waiting: Set<String>
    }

    static let healthCheckInterval: UInt64 = 1_000_000_000
    static let defaultNetworkPollSeconds: Double = 10

    let layout: InboxLayout
    let configuredPollNanoseconds: UInt64
    var logger: Logger
    let emit: (IntakeEvent) -> Void
    /// Polled with the inotify descriptor; readable means "stop".
    let wakeFD: Int32

    var mode: Mode = .inotify
    var tracker: SettleTracker
    /// Files already reported settled, with the fingerprint they had then.
    var known: [String: Fingerprint] = [:]
    var batch: RescanBatch?
    var inotify: FileDescriptor?
    /// Watch descriptor → folder relative to the inbox (`""` for the inbox).
    var watches: [Int32: String] = [:]
    var pausedReason: String?
    var stopped = false
    /// After an unmount: the folder that showed through at the inbox path; intake resumes once another is there.
    var unmountedUnderlying: (device: UInt64, inode: UInt64)?
    var rootIdentity: (device: UInt64, inode: UInt64)?
    var rootWasMountpoint = false
    var nextPoll: UInt64?
    var nextHealthCheck: UInt64 = 0
    var watchesRanOut = false
    private let buffer: UnsafeMutableRawBufferPointer

    /// - Parameters:
    ///   - emit: called on this engine's thread for every event, in order.
    ///   - wakeFD: an eventfd; once readable, ``step()`` marks the engine stopped.
    init(config: Config.Inbox, logger: Logger, wakeFD: Int32, emit: @escaping (IntakeEvent) -> Void) {
        layout = InboxLayout(config)
        tracker = SettleTracker(settleNanoseconds: UInt64(max(0, config.settleSeconds) * 1e9))
        configuredPollNanoseconds = UInt64(max(0, config.pollSeconds) * 1e9)
        var logger = logger
        logger[metadataKey: "wf.inbox"] = "\(layout.root)"
        self.logger = logger
        self.emit = emit
        self.wakeFD = wakeFD
        buffer = .allocate(byteCount: 64 * 1024, alignment: MemoryLayout<inotify_event>.alignment)
    }

    deinit { buffer.deallocate() }

    // MARK: Loop

    /// Runs ``step()`` until the wake descriptor is signalled.
    func run() throws(IntakeError) {
        start()
        while !stopped { try step() }
    }

    /// First activation: watch (or poll) the inbox and rescan it, or pause when it is not there.
    func start() {
        if let reason = activate() { pause(reason) } else { rescan(replacingBatch: true) }
    }

    /// One round: wait for an event or the next deadline, then handle what is due.
    func step() throws(IntakeError) {
        let before = monotonicNanoseconds()
        var deadline = nextHealthCheck
        if let due = tracker.nextDeadline() { deadline = min(deadline, due) }
        if let batch { deadline = min(deadline, batch.deadline) }
        if let nextPoll, pausedReason == nil { deadline = min(deadline, nextPoll) }
        let timeout = deadline <= before ? 0 : Int32(min((deadline - before + 999_999) / 1_000_000, 60_000))
        var fds = [wakeFD]
        if let inotify { fds.append(inotify.raw) }
        let ready = try Inotify.poll(fds, timeoutMilliseconds: timeout)
        if ready.contains(wakeFD) {
            _ = Inotify.drain(eventFD: wakeFD)
            stopped = true
            return
        }
        if let inotify, ready.contains(inotify.raw) {
            do {
                handle(try Inotify.readEvents(inotify.raw, buffer: buffer))
            } catch {
                pause("cannot read inotify events: \(error)")
            }
        }
        tick(now: monotonicNanoseconds())
    }

    /// Everything that is due at `now`: health check or resume, poll pass, settle deadlines, the rescan batch.
    func tick(now: UInt64) {
        if now >= nextHealthCheck {
            nextHealthCheck = now + Self.healthCheckInterval
            if pausedReason != nil { tryResume() } else { checkHealth() }
        }
        if pausedReason == nil, let due = nextPoll, now >= due {
            rescan(replacingBatch: false)
        }
        settleDue(now: monotonicNanoseconds())
    }

    // MARK: Activation, pause, resume

    /// Checks the inbox, chooses inotify or polling and opens the inotify descriptor. Nil on success, else why not.
    private func activate() -> String? {
        inotify = nil
        watches = [:]
        nextPoll = nil
        var st = stat()
        guard stat(layout.root, &st) == 0 else {
            return "inbox \(layout.root) is not reachable: \(String(cString: strerror(errno)))"
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { return "inbox \(layout.root) is not a directory" }
        let identity = (device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        if let underlying = unmountedUnderlying, underlying == identity {
            return "inbox filesystem at \(layout.root) is unmounted"
        }
        unmountedUnderlying = nil
        rootIdentity = identity
        rootWasMountpoint = isMountpoint(device: identity.device)
        let network = FilesystemKind.networkName(at: layout.root)
        if configuredPollNanoseconds > 0 {
            mode = .polling(intervalNanoseconds: configuredPollNanoseconds, reason: "poll_seconds is set")
        } else if let network {
            mode = .polling(intervalNanoseconds: UInt64(Self.defaultNetworkPollSeconds * 1e9),
                            reason: "\(network) is a network filesystem: inotify cannot see remote writes")
        } else {
            do {
                inotify = FileDescriptor(try Inotify.initialize())
                mode = .inotify
            } catch {
                mode = .polling(intervalNanoseconds: UInt64(Self.defaultNetworkPollSeconds * 1e9),
                                reason: "inotify unavailable: \(error)")
            }
        }
        switch mode {
        case .inotify:
            logger.info("intake watching the inbox with inotify", metadata: ["wf.recursive": "\(layout.recursive)"])
        case .polling(let interval, let reason):
            logger.info("intake polling the inbox", metadata: [
                "wf.poll_seconds": "\(Double(interval) / 1e9)", "wf.reason": "\(reason)",
            ])
        }
        return nil
    }

    /// Stops intake until the inbox is back: drops watches and waits, never reports files as gone.
    func pause(_ reason: String) {
        guard pausedReason == nil else { return }
        pausedReason = reason
        // The consumer logs the pause (the daemon at `error`, with this reason); here only the detail.
        logger.debug("intake paused, checking the inbox every second", metadata: ["wf.reason": "\(reason)"])
        inotify = nil
        watches = [:]
        tracker.removeAll()
        known = [:]
        batch = nil
        nextPoll = nil
        nextHealthCheck = monotonicNanoseconds() + Self.healthCheckInterval
        emit(.paused(reason: reason))
    }

    private func tryResume() {
        guard activate() == nil else { return }
        let reason = pausedReason ?? ""
        pausedReason = nil
        logger.debug("intake resumed", metadata: ["wf.paused_reason": "\(reason)"])
        emit(.resumed)
        rescan(replacingBatch: true)
    }

    /// Once a second: is the inbox still the folder (and filesystem) being watched?
    private func checkHealth() {
        var st = stat()
        guard stat(layout.root, &st) == 0 else {
            return pause("inbox \(layout.root) is not reachable: \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { return pause("inbox \(layout.root) is not a directory") }
        if rootWasMountpoint && !isMountpoint(device: UInt64(st.st_dev)) {
            return pausedByUnmount(showing: st)
        }
        if let rootIdentity, rootIdentity != (UInt64(st.st_dev), UInt64(st.st_ino)) {
            // Another folder (or a newly mounted filesystem) now sits at the inbox path: start over on it.
            logger.notice("inbox was replaced; watching the new folder")
            if let reason = activate() { return pause(reason) }
            rescan(replacingBatch: true)
        }
    }

    /// The inbox's filesystem went away (IN_UNMOUNT, or the mount point shows its parent's filesystem):
    /// what shows through now is not the inbox, so pause until something else is mounted there.
    func pausedByUnmount(showing st: stat? = nil) {
        var st = st ?? stat()
        if st.st_ino == 0 && stat(layout.root, &st) != 0 { return pause("inbox \(layout.root) is not reachable") }
        let showing = (device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        // Still the inbox itself (the unmount is not visible yet): let the health check decide.
        if let rootIdentity, rootIdentity == showing { return checkHealthNow() }
        unmountedUnderlying = showing
        pause("inbox filesystem at \(layout.root) was unmounted")
    }

    private func isMountpoint(device: UInt64) -> Bool {
        var parent = stat()
        let parentPath = layout.root == "/" ? "/" : layout.root + "/.."
        guard stat(parentPath, &parent) == 0 else { return false }
        return UInt64(parent.st_dev) != device
    }
}

// MARK: Bookkeeping shared by the event and rescan paths

extension IntakeEngine {
    /// Adds (or refreshes) the watch of a folder; folders that vanish or cannot be read are skipped.
    func watch(_ dir: String) {
        guard let inotify, !watchesRanOut else { return }
        do {
            let wd = try Inotify.addWatch(inotify.raw, path: layout.absolute(dir))
            watches[wd] = dir
        } catch where error.errno == ENOSPC || error.errno == ENOMEM {
            logger.error("inotify watch limit reached (fs.inotify.max_user_watches): \(error); polling instead")
            watchesRanOut = true
        } catch where error.errno == ENOENT || error.errno == ENOTDIR {
            return
        } catch {
            logger.warning("cannot watch a folder of the inbox: \(error)")
        }
    }

    /// After the kernel refused a watch: give up inotify for this inbox and poll it.
    func fallBackToPollingIfWatchesRanOut() {
        guard watchesRanOut else { return }
        watchesRanOut = false
        inotify = nil
        watches = [:]
        let interval = UInt64(Self.defaultNetworkPollSeconds * 1e9)
        mode = .polling(intervalNanoseconds: interval, reason: "inotify watch limit reached")
        nextPoll = monotonicNanoseconds()
    }

    /// The watch is gone (IN_IGNORED or removed); losing the inbox's own watch is checked at once.
    func forgetWatch(_ wd: Int32) {
        guard let dir = watches.removeValue(forKey: wd) else { return }
        if dir.isEmpty { checkHealthNow() }
    }

    /// Runs the once-a-second health check now.
    func checkHealthNow() {
        nextHealthCheck = 0
    }

    /// Forgets a file (or a folder's files) quietly: deleted or moved away, settled or not.
    func forget(_ path: String, subtree: Bool) {
        tracker.forget(path, subtree: subtree)
        known[path] = nil
        batch?.waiting.remove(path)
        guard subtree else { return }
        let prefix = path + "/"
        known = known.filter { !$0.key.hasPrefix(prefix) }
        if let waiting = batch?.waiting { batch?.waiting = waiting.filter { !$0.hasPrefix(prefix) } }
    }
}
