/// What the inbox's filesystem is, for choosing between inotify and polling.
///
/// inotify only sees changes made through the local kernel: on NFS, CIFS/SMB, 9p or FUSE (sshfs, s3fs,
/// rclone...) files written by other machines raise no event, so those are polled.
enum FilesystemKind {
    /// `statfs(2)` magic numbers of filesystems whose remote writes inotify cannot see.
    static let networkMagics: [Int64: String] = [
        0x6969: "nfs",
        0xFF53_4D42: "cifs",
        0xFE53_4D42: "smb2",
        0x517B: "smb",
        0x6573_5546: "fuse",
        0x0102_1997: "9p",
        0x5346_414F: "afs",
        0x00C3_6400: "ceph",
        0x7375_7245: "coda",
        0x564C: "ncp",
        0x0BD0_0BD0: "lustre",
        0x0116_1970: "gfs2",
        0x7461_636F: "ocfs2",
    ]

    /// The name of the network filesystem with this magic, or nil for a local one.
    static func networkName(magic: Int64) -> String? { networkMagics[magic] }

    /// The network filesystem `path` lies on, or nil when it is local (or statfs fails: inotify is tried).
    static func networkName(at path: String) -> String? {
        guard let magic = try? Inotify.filesystemType(path) else { return nil }
        return networkName(magic: magic)
    }
}
