public import Foundation

/// When a failed delivery is tried again: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h, each ±10 %
/// jitter, for 24 hours after the delivery was created (or resent); after that it is `failed`.
public struct WebhookRetryPolicy: Sendable, Hashable {
    /// Delays before attempts 2, 3, ... (the last one repeats).
    public static let baseDelays: [TimeInterval] = [5, 30, 120, 600, 1800, 3600, 7200]
    public static let baseWindow: TimeInterval = 24 * 3600
    /// The environment variable tests use to shrink every delay and the window (a test knob, not a user option).
    public static let scaleVariable = "WATCHFOLDER_WEBHOOK_RETRY_SCALE"

    /// Multiplies every delay and the window.
    public var scale: Double
    /// Fraction of a delay added or removed at random.
    public var jitter: Double

    public init(scale: Double = 1, jitter: Double = 0.1) {
        self.scale = scale
        self.jitter = jitter
    }

    /// The policy of the running process: scale 1 unless ``scaleVariable`` holds a positive number.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        if let text = environment[scaleVariable], let scale = Double(text), scale > 0 { return Self(scale: scale) }
        return Self()
    }

    public var window: TimeInterval { Self.baseWindow * scale }

    /// The delay after `attempts` failed attempts (1 = the first request failed), before jitter.
    public func delay(afterAttempts attempts: Int) -> TimeInterval {
        let index = min(max(attempts, 1), Self.baseDelays.count) - 1
        return Self.baseDelays[index] * scale
    }

    /// When to try again after `attempts` failed attempts at `now`, or nil when the window is over (`failed`).
    public func nextAttempt<G: RandomNumberGenerator>(afterAttempts attempts: Int, now: Date, windowStart: Date,
                                                      using generator: inout G) -> Date? {
        let base = delay(afterAttempts: attempts)
        let jittered = base * (1 + Double.random(in: -jitter...jitter, using: &generator))
        let next = now.addingTimeInterval(jittered)
        return next.timeIntervalSince(windowStart) > window ? nil : next
    }

    public func nextAttempt(afterAttempts attempts: Int, now: Date, windowStart: Date) -> Date? {
        var generator = SystemRandomNumberGenerator()
        return nextAttempt(afterAttempts: attempts, now: now, windowStart: windowStart, using: &generator)
    }
}
