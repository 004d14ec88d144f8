import Dispatch
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Watches the inbox and reports each upload once it is complete.
///
/// A file becomes ``IntakeEvent/settled(_:)`` when, after its last `CLOSE_WRITE` or `MOVED_TO`, its size and
/// mtime stay unchanged for `settle_seconds`; any further write restarts the wait (SMB clients close and reopen
/// while copying; SFTP clients write `NAME.filepart` and rename it). Names matching `ignore` and extensions not
/// in `extensions` are left alone. With `recursive`, new folders are watched as they appear and scanned once.
/// Start-up, an inotify queue overflow, every poll pass and the inbox coming back end in
/// ``IntakeEvent/rescanned(_:)``. On NFS/CIFS/SMB/FUSE (or with `poll_seconds > 0`) the inbox is polled.
/// An inbox that vanishes or is unmounted ``IntakeEvent/paused(reason:)`` intake until it is back.
///
/// The watching runs on a dedicated thread blocked in `poll(2)` (never on the cooperative pool); events reach
/// `handler` one at a time, in order, from ``run()``'s task.
public struct Intake: Service {
    /// The `[inbox]` section this intake watches.
    public let config: Config.Inbox
    let logger: Logger
    let handler: @Sendable (IntakeEvent) async -> Void

    /// - Parameters:
    ///   - config: the `[inbox]` section.
    ///   - logger: the intake logs its mode (inotify or polling) and queue overflows; pauses are events for the
    ///     consumer to log; details at `debug`/`trace`.
    ///   - handler: receives every event in order; the next one waits until it returns.
    public init(config: Config.Inbox, logger: Logger, handler: @escaping @Sendable (IntakeEvent) async -> Void) {
        self.config = config
        self.logger = logger
        self.handler = handler
    }

    /// Watches until graceful shutdown or task cancellation, then returns promptly.
    ///
    /// Events already detected when shutdown begins are still delivered (graceful shutdown) or dropped
    /// (cancellation). A missing inbox is not an error: intake is paused until it appears.
    /// - Throws: ``IntakeError`` when the eventfd cannot be created or `poll(2)` fails.
    public func run() async throws {
        let wake = FileDescriptor(try Inotify.eventFD())
        let (events, continuation) = AsyncStream.makeStream(of: IntakeEvent.self)
        let join = ThreadJoin()
        let config = config
        let logger = logger
        let thread = Thread {
            let engine = IntakeEngine(config: config, logger: logger, wakeFD: wake.raw) { continuation.yield($0) }
            do {
                try engine.run()
            } catch {
                join.fail(error)
            }
            continuation.finish()
            join.finish()
        }
        thread.name = "watchfolder-intake"
        thread.start()
        let signal: @Sendable () -> Void = { try? Inotify.signal(eventFD: wake.raw) }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                for await event in events { await handler(event) }
            } onGracefulShutdown: {
                signal()
            }
        } onCancel: {
            signal()
        }
        signal()
        // The thread exits as soon as it sees the signal, unless a hung network mount blocks it in a syscall:
        // then it is left behind (it holds nothing run()'s caller needs) rather than blocking shutdown.
        try await join.wait(atMost: .seconds(2))
    }

    /// Lists every candidate file of the inbox whose fingerprint stays unchanged for `settle_seconds`.
    ///
    /// Lists the inbox (recursively when configured, skipping ignored names and the archive and failed folders),
    /// waits `settle_seconds`, and keeps the files that did not change meanwhile.
    /// - Important: Blocks the calling thread for `settle_seconds`; from async code use the `async` overload.
    /// - Throws: ``IntakeError`` when the inbox cannot be read.
    public static func rescan(config: Config.Inbox) throws -> [InboxFile] {
        let layout = InboxLayout(config)
        let first = try layout.scan().files
        if config.settleSeconds > 0 { Thread.sleep(forTimeInterval: config.settleSeconds) }
        return first.filter { !layout.isIgnoredFile($0.relativePath) && layout.fingerprint($0.relativePath) == $0.fingerprint }
    }

    /// ``rescan(config:)`` waiting with `Task.sleep` instead of blocking the thread.
    public static func rescan(config: Config.Inbox) async throws -> [InboxFile] {
        let layout = InboxLayout(config)
        let first = try layout.scan().files
        if config.settleSeconds > 0 { try await Task.sleep(for: .seconds(config.settleSeconds)) }
        return first.filter { !layout.isIgnoredFile($0.relativePath) && layout.fingerprint($0.relativePath) == $0.fingerprint }
    }

    /// True when the intake never takes `relativePath` (`/`-separated, relative to the inbox): a name on the way
    /// matches `ignore`, its extension is not in `extensions` (case-insensitive), it lies in a sub-folder while
    /// `recursive` is false, or under the archive or failed folder.
    public static func isIgnored(_ relativePath: String, config: Config.Inbox) -> Bool {
        InboxLayout(config).isIgnoredFile(relativePath)
    }
}
