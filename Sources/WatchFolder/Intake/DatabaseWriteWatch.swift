import CInotify
import Dispatch
public import Foundation

/// Watches the job database's write-ahead log (`watchfolder.sqlite-wal`) and calls `onWrite` whenever a process
/// writes it or closes it after writing: how the daemon sees the CLI's `cancel`, `retry` and `webhooks resend` at once
/// without polling the store. SQLite appends every commit to that file; readers never write it, so an idle store makes
/// no event. A write is seen as it starts, before its commit is visible (that comes with the `-shm` index, which is
/// mapped memory and makes no event): the CLI's close of the log when it exits, right after its commits, is the event
/// that comes after them. It lives with the intake because the inotify wrappers do. Not `Sendable`: the daemon holds it for its run and cancels it at the end.
public final class DatabaseWriteWatch {
    private let source: any DispatchSourceRead

    /// - Throws: ``IntakeError`` when inotify cannot watch the database's folder.
    public init(database: URL, onWrite: @escaping @Sendable () -> Void) throws(IntakeError) {
        let fd = try Inotify.initialize()
        let folder = database.deletingLastPathComponent().path
        let log = database.lastPathComponent + "-wal"
        do {
            _ = try Inotify.addWatch(fd, path: folder, mask: CInotify_IN_MODIFY | CInotify_IN_CLOSE_WRITE | CInotify_IN_CREATE | CInotify_IN_MOVED_TO)
        } catch {
            close(fd)
            throw error
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: DispatchQueue(label: "watchfolder.store-watch"))
        source.setEventHandler {
            let events = withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 8) { buffer in
                (try? Inotify.readEvents(fd, buffer: buffer)) ?? []
            }
            if events.contains(where: { $0.name == log }) { onWrite() }
        }
        source.setCancelHandler { close(fd) }
        source.resume()
        self.source = source
    }

    /// Stops watching and closes the descriptor.
    public func cancel() { source.cancel() }
}
