public import Foundation

/// A file effect decided by the scheduler or the CLI; the store fills in the job and its file identity.
public struct PlannedEffect: Sendable, Hashable {
    public var kind: FileEffect.Kind
    public var source: URL
    /// The preferred destination.
    public var target: URL?
    /// The destination already chosen, when `target` is known to be taken (a `restore` whose inbox name is used).
    public var placed: URL?
    public var note: String?

    public init(_ kind: FileEffect.Kind, source: URL, target: URL? = nil, placed: URL? = nil, note: String? = nil) {
        self.kind = kind
        self.source = source
        self.target = target
        self.placed = placed
        self.note = note
    }
}
