import Foundation

/// Reported files waiting to be recorded: one entry per path (its latest report), in the order paths first came.
struct PendingFiles: Sendable {
    private var order: [String] = []
    private var latest: [String: InboxFile] = [:]

    var count: Int { latest.count }

    mutating func add(_ file: InboxFile) {
        if latest.updateValue(file, forKey: file.relativePath) == nil { order.append(file.relativePath) }
    }

    func first(_ n: Int) -> [InboxFile] {
        order.prefix(n).compactMap { latest[$0] }
    }

    /// Forgets what was recorded; a path reported again meanwhile (another fingerprint) stays.
    mutating func remove(_ recorded: [InboxFile]) {
        for file in recorded where latest[file.relativePath] == file { latest[file.relativePath] = nil }
        order.removeAll { latest[$0] == nil }
    }
}
