import Foundation
import Logging

/// Wraps a handler so that its level follows ``LogSetup/currentLevel``.
struct ReloadableLevelHandler: LogHandler {
    var inner: any LogHandler
    /// Set on one logger only (`logger.logLevel = .debug`); else the process-wide level.
    var override: Logger.Level?
    var logLevel: Logger.Level {
        get { override ?? LogSetup.currentLevel }
        set { override = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
    func log(event: LogEvent) { inner.log(event: event) }
}
