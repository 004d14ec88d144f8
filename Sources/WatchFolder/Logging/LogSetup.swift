import Foundation
public import Logging
import Synchronization

/// Bootstraps swift-log once per process (from `[log]`): text lines or JSON lines on stderr.
public enum LogSetup {
    private static let done = Mutex(false)
    private static let level = Mutex(Logger.Level.info)

    /// The level every handler made by ``bootstrap(_:)`` uses; changed at run time by SIGHUP.
    public static var currentLevel: Logger.Level { level.withLock { $0 } }

    /// Changes the level of every logger at once (config reload).
    public static func setLevel(_ newLevel: Logger.Level) {
        level.withLock { $0 = newLevel }
    }

    /// Makes every logger of the process write at `level` and above, as JSON lines when `json`, else as text.
    public static func bootstrap(level: Logger.Level, json: Bool) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        setLevel(level)
        LoggingSystem.bootstrap { label in
            let handler: any LogHandler = json
                ? JSONLogHandler(label: label)
                : EscapingLogHandler(inner: StreamLogHandler.standardError(label: label))
            return ReloadableLevelHandler(inner: handler)
        }
    }
}
