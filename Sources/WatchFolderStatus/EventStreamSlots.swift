import Synchronization

/// The cap on open event streams (`[http] max_event_streams`): each `/api/events` response holds a
/// ``Slot`` for as long as it exists; past the cap the request is answered 503.
final class EventStreamSlots: Sendable {
    /// One open stream; freed when the response that holds it is gone (ended, failed or never sent).
    final class Slot: Sendable {
        let owner: EventStreamSlots
        init(owner: EventStreamSlots) { self.owner = owner }
        deinit { owner.open.subtract(1, ordering: .relaxed) }
    }

    let limit: Int
    fileprivate let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// A slot, or nil when `limit` streams are open.
    func take() -> Slot? {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return Slot(owner: self) }
            current = original
        }
        return nil
    }

    /// Streams open now.
    var count: Int { open.load(ordering: .relaxed) }
}
