import NIOCore
import Synchronization

/// The status server's connection cap (`[http] max_connections`): every accepted connection passes the gate
/// before it gets a pipeline, so the server never holds more than `limit` sockets however many are opened.
///
/// At the cap, a new connection takes the place of the oldest *idle* one (no request in progress: a keep-alive
/// connection between requests, or one that has not sent a whole request head yet), which is closed; when every
/// connection is busy (requests being answered, event streams), the new one is closed at once. So a thousand
/// sockets that send nothing cannot lock out `/api/health`, and cannot use more descriptors than the cap.
///
/// Connections live on several event loops; the bookkeeping is under one lock.
final class ConnectionGate: Sendable {
    /// What ``admit(_:)`` decided.
    enum Admission {
        case admitted
        /// Admitted in place of this idle connection, which the caller closes.
        case admittedEvicting(any Channel)
        case refused
    }

    private struct Entry {
        var channel: any Channel
        var order: UInt64
        /// Requests whose head has arrived and whose response has not ended.
        var requests = 0
    }

    private struct State {
        var open: [ObjectIdentifier: Entry] = [:]
        var next: UInt64 = 0
        var refused = 0
        var evicted = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        precondition(limit >= 1, "max_connections must be at least 1")
        self.limit = limit
    }

    /// Counts `channel` in, or decides it must go (see the type's description).
    func admit(_ channel: any Channel) -> Admission {
        state.withLock { state in
            var victim: (any Channel)?
            if state.open.count >= limit {
                guard let idle = state.open.values.filter({ $0.requests == 0 }).min(by: { $0.order < $1.order }) else {
                    state.refused += 1
                    return .refused
                }
                state.open[ObjectIdentifier(idle.channel)] = nil
                state.evicted += 1
                victim = idle.channel
            }
            state.next += 1
            state.open[ObjectIdentifier(channel)] = Entry(channel: channel, order: state.next)
            return victim.map { .admittedEvicting($0) } ?? .admitted
        }
    }

    /// `channel` closed.
    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// A request head arrived on `channel` (`+1`) or its response ended (`-1`).
    func requests(on channel: any Channel, _ delta: Int) {
        state.withLock { state in
            let id = ObjectIdentifier(channel)
            if let entry = state.open[id] { state.open[id]?.requests = max(0, entry.requests + delta) }
        }
    }

    /// Open connections, those with a request in progress, connections refused at the cap, idle ones closed for
    /// newer ones (for tests).
    var counts: (open: Int, busy: Int, refused: Int, evicted: Int) {
        state.withLock { ($0.open.count, $0.open.values.filter { $0.requests > 0 }.count, $0.refused, $0.evicted) }
    }
}
