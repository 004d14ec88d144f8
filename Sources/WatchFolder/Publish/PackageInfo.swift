public import Foundation

/// The job a package belongs to, as publishers see it.
public struct PackageInfo: Sendable, Hashable {
    public var jobID: Int64
    /// Source path relative to the inbox.
    public var sourcePath: String
    /// When the job arrived (the layout's date).
    public var createdAt: Date
    /// The master playlist's file name inside the package.
    public var masterName: String

    public init(jobID: Int64, sourcePath: String, createdAt: Date, masterName: String = "master.m3u8") {
        self.jobID = jobID
        self.sourcePath = sourcePath
        self.createdAt = createdAt
        self.masterName = masterName
    }
}
