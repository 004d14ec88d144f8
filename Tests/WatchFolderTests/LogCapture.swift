import Logging
import Synchronization

/// Collects what a logger prints (`LEVEL message key=value ...`), for tests that check log lines.
final class LogCapture: Sendable {
    private let captured = Mutex<[String]>([])

    var lines: [String] { captured.withLock { $0 } }

    /// A logger whose lines land here.
    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    func lines(containing text: String) -> [String] { lines.filter { $0.contains(text) } }

    fileprivate func append(_ line: String) { captured.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let pairs = all.keys.sorted().map { "\($0)=\(all[$0]!)" }.joined(separator: " ")
            capture.append("\(event.level) \(event.message) \(pairs)")
        }
    }
}
