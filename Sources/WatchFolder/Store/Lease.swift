public import Foundation

/// This process as the store knows it: the node's name (`[state] node`), how long its leases last without renewal
/// (`[state] lease_seconds`), and what it runs.
public struct NodeIdentity: Sendable, Hashable {
    public var name: String
    public var leaseSeconds: TimeInterval
    public var version: String

    public init(name: String, leaseSeconds: TimeInterval, version: String = WatchFolderVersion.string) {
        self.name = name
        self.leaseSeconds = leaseSeconds
        self.version = version
    }

    /// The default node: this host's name, 30 s leases.
    public static var standalone: NodeIdentity { NodeIdentity(name: hostName, leaseSeconds: 30) }

    /// The host name (``HostName/current``).
    public static var hostName: String { HostName.current }
}

/// What one heartbeat of a node found in the store.
public struct Heartbeat: Sendable {
    /// Jobs of this node whose lease has moved (another node took them over): the node stops them and writes
    /// nothing more for them.
    public var lost: Set<Int64>
    /// Other nodes' running or publishing jobs whose lease ran out: any node may take them over.
    public var expired: [Job]

    public init(lost: Set<Int64>, expired: [Job]) {
        self.lost = lost
        self.expired = expired
    }
}

/// A node as `watchfolder nodes` and `GET /api/nodes` show it. Field names are stable.
public struct NodeStatus: Codable, Sendable, Hashable {
    public enum State: String, Codable, Sendable { case up, gone }
    public var name: String
    /// The last heartbeat (ISO 8601).
    public var heartbeatAt: String
    /// Ids of the jobs it runs or publishes now.
    public var running: [Int64]
    /// The video encoder of its last package (`libx264`, `h264_nvenc`...), or the one it would use.
    public var encoder: String?
    public var version: String
    /// `up` while it renews its heartbeat within its lease; `gone` once it stopped or missed a whole lease.
    public var state: State

    enum CodingKeys: String, CodingKey {
        case name, running, encoder, version, state
        case heartbeatAt = "heartbeat_at"
    }

    public init(name: String, heartbeatAt: Date, running: [Int64], encoder: String?, version: String, state: State) {
        self.name = name
        self.heartbeatAt = JobPayload.iso(heartbeatAt)
        self.running = running
        self.encoder = encoder
        self.version = version
        self.state = state
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(heartbeatAt, forKey: .heartbeatAt)
        try container.encode(running, forKey: .running)
        try container.encode(self.encoder, forKey: .encoder)  // null when unknown, never left out
        try container.encode(version, forKey: .version)
        try container.encode(state, forKey: .state)
    }
}

/// The time of lease writes, for both store backends.
enum LeaseClock {
    /// The time a lease write uses: `now` as the caller gave it, or the present when the call waited for the store
    /// past it (a connection, a lock), so that a lease never starts already run out. Tests give future times.
    static func stamp(_ now: Date) -> Date { max(now, Date()) }
}
