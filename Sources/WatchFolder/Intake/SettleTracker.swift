#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds on `CLOCK_MONOTONIC`.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Files whose upload may not be complete yet, each with the fingerprint last seen and when its wait ends.
///
/// The wait is always `settle` long, so deadlines are appended in order and a FIFO of deadlines is a timer
/// wheel with one slot: restarting a wait appends a new deadline and makes the older one stale (generations).
struct SettleTracker {
    struct Entry {
        var fingerprint: Fingerprint
        var deadline: UInt64
        var generation: UInt64
    }

    let settle: UInt64
    private(set) var entries: [String: Entry] = [:]
    private var queue: [(path: String, generation: UInt64, deadline: UInt64)] = []
    private var head = 0
    private var nextGeneration: UInt64 = 0

    init(settleNanoseconds: UInt64) { settle = settleNanoseconds }

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    func contains(_ path: String) -> Bool { entries[path] != nil }

    /// Starts (or restarts) the wait of `path`: a write was seen.
    mutating func restart(_ path: String, fingerprint: Fingerprint, now: UInt64) {
        nextGeneration += 1
        let deadline = now + settle
        entries[path] = Entry(fingerprint: fingerprint, deadline: deadline, generation: nextGeneration)
        queue.append((path, nextGeneration, deadline))
    }

    /// A scan saw `path` with `fingerprint`: restarts the wait only when it changed (or is not tracked).
    mutating func observe(_ path: String, fingerprint: Fingerprint, now: UInt64) {
        if entries[path]?.fingerprint == fingerprint { return }
        restart(path, fingerprint: fingerprint, now: now)
    }

    /// Restarts the wait of a tracked file only (a `MODIFY` on a file not yet closed is not tracked).
    mutating func touch(_ path: String, now: UInt64) {
        guard let entry = entries[path] else { return }
        restart(path, fingerprint: entry.fingerprint, now: now)
    }

    /// Forgets `path`, and every tracked path under it when `subtree` is true.
    mutating func forget(_ path: String, subtree: Bool = false) {
        entries[path] = nil
        if subtree {
            let prefix = path.isEmpty ? "" : path + "/"
            for key in entries.keys where key.hasPrefix(prefix) { entries[key] = nil }
        }
    }

    mutating func removeAll() {
        entries = [:]
        queue = []
        head = 0
    }

    /// The earliest live deadline, if any.
    mutating func nextDeadline() -> UInt64? {
        dropStale()
        return head < queue.count ? queue[head].deadline : nil
    }

    /// Removes and returns every file whose wait has ended, with the fingerprint it had when the wait began.
    mutating func popDue(now: UInt64) -> [(path: String, fingerprint: Fingerprint)] {
        var due: [(path: String, fingerprint: Fingerprint)] = []
        while true {
            dropStale()
            guard head < queue.count, queue[head].deadline <= now else { break }
            let path = queue[head].path
            head += 1
            if let entry = entries.removeValue(forKey: path) { due.append((path, entry.fingerprint)) }
        }
        compact()
        return due
    }

    private mutating func dropStale() {
        while head < queue.count, entries[queue[head].path]?.generation != queue[head].generation { head += 1 }
    }

    private mutating func compact() {
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        } else if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}
