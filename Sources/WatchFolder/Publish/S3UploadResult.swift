import Foundation

/// What ``S3Uploader/uploadPackage(directory:keyPrefix:progress:)`` did.
public struct S3UploadResult: Sendable, Hashable {
    /// The master playlist's public URL: `https://<cloudfront_domain>/<key>` when `cloudfront_domain` is set,
    /// else its S3 URL (virtual-hosted or path-style, as configured).
    public var masterURL: String
    /// The master playlist's key (`<prefix>/<keyPrefix>/master.m3u8`).
    public var masterKey: String
    /// The key prefix every object of the package is under, without a trailing slash.
    public var keyBase: String
    /// Objects sent now, and objects skipped because the bucket already had them with the same size.
    public var objectsUploaded: Int
    public var objectsSkipped: Int
    public var bytesUploaded: Int64
    public var bytesSkipped: Int64
    /// Objects sent by multipart upload (larger than ``S3Uploader/multipartThreshold``).
    public var multipartObjects: Int
    /// Incomplete multipart uploads under the package's prefix, left by an interrupted run, that were aborted
    /// (their objects were already complete, or are no longer in the package).
    public var staleUploadsAborted: Int
    /// Incomplete multipart uploads left by an interrupted run that were continued, and the parts they kept.
    public var uploadsResumed: Int = 0
    public var partsReused: Int = 0
    /// Whether the local package directory was removed (`delete_local_after_upload`, after verification).
    public var deletedLocal: Bool
}
