import Foundation

/// How failed requests are retried: exponential backoff with jitter, a bounded number of attempts.
public struct S3RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included.
    public var maxAttempts: Int
    /// The delay before the second attempt; it doubles each time, up to ``maxDelay``, and is jittered to
    /// between half and all of that.
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(10)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay after failed attempt number `attempt` (1-based).
    func delay(after attempt: Int) -> Duration {
        let exponent = min(attempt - 1, 20)
        let full = min(maxDelay, baseDelay * (1 << exponent))
        let half = full / 2
        return half + half * Double.random(in: 0...1)
    }
}
