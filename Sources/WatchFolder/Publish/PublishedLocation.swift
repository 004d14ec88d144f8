/// Where a package was published.
public struct PublishedLocation: Sendable, Hashable {
    /// The package: an outbox path or an S3 key prefix / URL.
    public var location: String
    /// The master playlist: a path or a URL.
    public var master: String?

    public init(location: String, master: String?) {
        self.location = location
        self.master = master
    }
}
