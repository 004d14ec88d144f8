/// Runs `body`, or gives up on it after `timeout`: nil then, and `body` is cancelled (a store that does not answer
/// must not hold a heartbeat or a health check for as long as its connection attempts take).
public func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}

/// A store call that did not answer within its deadline.
public struct DeadlineExceeded: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ what: String, after timeout: Duration) { description = "\(what) did not answer within \(timeout)" }
}
