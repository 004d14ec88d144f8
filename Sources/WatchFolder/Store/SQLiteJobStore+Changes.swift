import GRDB

extension SQLiteJobStore {
    /// Observed with a GRDB `ValueObservation` on the pool the daemon writes through, not polled: after each commit
    /// it re-reads the newest event id and the running jobs' progress, and ticks when they moved. A commit by another
    /// process (the CLI) is seen only with this process's next one: a reader that must not wait for that reads again
    /// on a clock of its own (the event stream's keep-alive).
    public func changes() -> AsyncStream<Void> {
        let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let observation = ValueObservation.tracking { db in
            try String.fetchAll(db, sql: """
                SELECT 'event ' || COALESCE(MAX(id), 0) FROM event
                UNION ALL SELECT id || ' ' || progress FROM job WHERE state = 'running'
                """)
        }.removeDuplicates()
        let cancellable = observation.start(in: pool, scheduling: .task,
                                            onError: { _ in tick.finish() }, onChange: { _ in tick.yield() })
        tick.onTermination = { _ in cancellable.cancel() }
        return ticks
    }
}
