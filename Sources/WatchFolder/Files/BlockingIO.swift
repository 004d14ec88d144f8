import NIOPosix

/// Runs blocking file work (fsync, copies across filesystems, renames, directory walks) on NIO's blocking thread
/// pool, never on a thread of the cooperative pool.
///
/// Not cancellable: a move or an fsync, once asked for, runs to its end (cancelling the caller does not abandon it
/// half-way; every caller is idempotent anyway).
enum BlockingIO {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            NIOThreadPool.singleton.submit { state in
                guard case .active = state else { return continuation.resume(throwing: CancellationError()) }
                continuation.resume(with: Result(catching: body))
            }
        }
    }
}
