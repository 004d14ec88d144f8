import Foundation

/// What a successful build reports.
public struct BuiltPackage: Sendable, Hashable {
    /// The video encoder used (`libx264`, `h264_nvenc`...).
    public var encoder: String?
    /// The package manifest as JSON (stored with the job, sent in `job.completed`).
    public var manifestJSON: String?
    /// The master playlist's file name inside the package.
    public var masterName: String

    public init(encoder: String?, manifestJSON: String?, masterName: String = "master.m3u8") {
        self.encoder = encoder
        self.manifestJSON = manifestJSON
        self.masterName = masterName
    }
}
