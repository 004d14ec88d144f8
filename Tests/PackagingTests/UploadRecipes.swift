import Foundation
import Glibc
import TestSupport
import Testing

/// The upload recipes of `docs/deb.md`, applied as written (the commands' paths and groups and the config blocks
/// are read from the doc) to a private sshd and smbd on free loopback ports, with throwaway accounts. They need
/// the package installed (users, groups and folders).
enum UploadRecipes {
    /// The fenced code block of `docs/deb.md` that contains `marker`, from the marker line on.
    static func block(containing marker: String) throws -> String {
        let doc = try String(contentsOf: packageRoot.appendingPathComponent("docs/deb.md"), encoding: .utf8)
        let fences = doc.components(separatedBy: "```")
        guard let code = fences.enumerated().first(where: { $0.offset % 2 == 1 && $0.element.contains(marker) })?.element,
              let start = code.range(of: marker) else {
            throw ToolFailure(description: "docs/deb.md has no code block with '\(marker)'")
        }
        // Drop the doc's list indentation.
        let lines = code[start.lowerBound...].split(separator: "\n", omittingEmptySubsequences: false)
        return lines.map { $0.hasPrefix("   ") ? String($0.dropFirst(3)) : String($0) }.joined(separator: "\n")
    }

    /// The group the doc's upload account joins (`sudo adduser uploader GROUP`).
    static func uploadGroup() throws -> String {
        let account = try block(containing: "# watchfolder: an upload account")
        guard let match = account.firstMatch(of: /sudo adduser uploader ([a-z-]+)/) else {
            throw ToolFailure(description: "docs/deb.md: the upload account joins no group")
        }
        return String(match.1)
    }

    /// A throwaway uploader made as the recipes say (no password, no shell, member of `groups`); removed with
    /// its home by `remove`.
    static func addUploader(_ name: String, groups: [String]) throws {
        try runChecked("adduser", ["--quiet", "--disabled-password", "--gecos", "", "--shell", "/usr/sbin/nologin", name])
        for group in groups { try runChecked("adduser", ["--quiet", name, group]) }
    }

    static func remove(user name: String) {
        _ = try? run("deluser", ["--quiet", "--remove-home", name])
        _ = try? run("delgroup", ["--quiet", name])
    }

    /// Runs `command` as `user` (with the user's groups), as a local login of that user would.
    static func asUser(_ user: String, _ command: [String]) throws -> ProcessResult {
        try run("setpriv", ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + command)
    }

    /// What an uploader may do on the machine itself: write the inbox, and nothing else of the appliance (not
    /// the config, the database, the other media folders).
    static func checkUploaderCanOnlyWriteTheInbox(_ user: String) throws {
        #expect(try asUser(user, ["cat", "/etc/watchfolder/config.toml"]).status != 0, "\(user) reads the config")
        #expect(try asUser(user, ["ls", "/var/lib/watchfolder"]).status != 0, "\(user) lists the state folder")
        #expect(try asUser(user, ["cat", "/var/lib/watchfolder/watchfolder.sqlite"]).status != 0, "\(user) reads the database")
        for dir in ["outbox", "archive", "failed"] {
            #expect(try asUser(user, ["touch", "/srv/watchfolder/\(dir)/\(user).mp4"]).status != 0, "\(user) writes \(dir)")
        }
        let own = "/srv/watchfolder/inbox/.\(user)-direct"
        #expect(try asUser(user, ["touch", own]).status == 0, "\(user) writes the inbox")
        _ = try asUser(user, ["rm", "-f", own])
    }

    /// The SFTP recipe on a private sshd: the chroot of the doc's first block (its mount made with `mount --bind`,
    /// as its `fstab` line would), the doc's `Match` block, a key per uploader.
    final class SFTP {
        static let chrootMarker = "# watchfolder: a chroot that shows only the inbox"
        let scratch: URL
        let port: Int
        let chroot: String
        let mountPoint: String
        private var sshd: ServerProcess?
        private var keys: [String: URL] = [:]

        init(scratch: URL) throws {
            self.scratch = scratch
            let setup = try block(containing: Self.chrootMarker)
            guard let bind = setup.firstMatch(of: /echo "(\S+) (\S+) none bind 0 0"/) else {
                throw ToolFailure(description: "docs/deb.md: the chroot block has no fstab bind line")
            }
            let match = try block(containing: "# watchfolder: SFTP-only uploads into the inbox")
            guard let root = match.firstMatch(of: /ChrootDirectory (\S+)/) else {
                throw ToolFailure(description: "docs/deb.md: the Match block has no ChrootDirectory")
            }
            chroot = String(root.1)
            mountPoint = String(bind.2)
            #expect(match.contains("-P symlink,hardlink"), "links refused")
            #expect(String(bind.1) == "/srv/watchfolder/inbox" && mountPoint == chroot + "/inbox")
            try Self.removeChroot(chroot: chroot, mountPoint: mountPoint)
            try runChecked("install", ["-d", "-o", "root", "-g", "root", "-m", "0755", chroot, mountPoint])
            try runChecked("mount", ["--bind", String(bind.1), mountPoint])

            let hostKey = scratch.appendingPathComponent("host_key")
            try runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey.path])
            port = try freePort()
            let config = scratch.appendingPathComponent("sshd_config")
            try """
                # A private sshd for the test; Debian's defaults otherwise (UsePAM yes).
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(hostKey.path)
                PidFile \(scratch.appendingPathComponent("sshd.pid").path)
                UsePAM yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                Subsystem sftp internal-sftp
                \(match)
                """.write(to: config, atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
            try runChecked("/usr/sbin/sshd", ["-t", "-f", config.path])
            let sshd = try ServerProcess("/usr/sbin/sshd", ["-D", "-e", "-f", config.path], log: scratch.appendingPathComponent("sshd.log"))
            self.sshd = sshd
            try sshd.waitUntilListening(on: port, timeout: 20)
        }

        /// Stops sshd, unmounts and removes the chroot (never anything under the inbox).
        func stop() {
            sshd?.stop()
            sshd = nil
            try? Self.removeChroot(chroot: chroot, mountPoint: mountPoint)
        }

        /// Unmounts `mountPoint` if mounted and removes the two (empty) folders.
        static func removeChroot(chroot: String, mountPoint: String) throws {
            while (try? run("mountpoint", ["-q", mountPoint]))?.status == 0 { try runChecked("umount", [mountPoint]) }
            _ = rmdir(mountPoint)
            _ = rmdir(chroot)
        }

        /// Gives `user` a key in `~/.ssh/authorized_keys`.
        func authorize(_ user: String) throws {
            let key = scratch.appendingPathComponent("key_\(user)")
            try runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key.path])
            let home = "/home/\(user)"
            try runChecked("install", ["-d", "-m", "700", "-o", user, "-g", user, "\(home)/.ssh"])
            try runChecked("install", ["-m", "600", "-o", user, "-g", user, key.path + ".pub", "\(home)/.ssh/authorized_keys"])
            keys[user] = key
        }

        private func clientOptions(_ user: String) -> [String] {
            ["-i", keys[user]?.path ?? "", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
        }

        /// One sftp batch session of `user`; `-b` stops at the first failed command, so give one command to check
        /// that it is refused.
        func sftp(_ user: String, _ commands: String) throws -> ProcessResult {
            let batch = scratch.appendingPathComponent("batch-\(UUID().uuidString)")
            try commands.write(to: batch, atomically: true, encoding: .utf8)
            return try run("sftp", clientOptions(user) + ["-P", "\(port)", "-b", batch.path, "\(user)@127.0.0.1"])
        }

        /// `uploader` sends `file` (a temporary name, then a rename, as clients do) and the session is what the
        /// doc promises: it starts in /inbox, sees nothing else, has no shell; the upload belongs to the uploader
        /// and group watchfolder-upload, readable by the group and writable by its owner only.
        func upload(_ file: URL, as uploader: String) throws {
            let name = file.lastPathComponent
            // Group-writable on the uploader's machine, as a desktop's umask 0002 makes files: sftp sends that mode.
            chmod(file.path, 0o666)
            let session = try sftp(uploader, "pwd\nput \(file.path) \(name).part\nrename \(name).part \(name)\n")
            #expect(session.status == 0, "sftp upload: \(session.output)")
            #expect(session.stdout.contains("Remote working directory: /inbox"), "\(session.output)")
            let listing = try sftp(uploader, "ls -1a /\n")
            let entries = listing.stdout.split(separator: "\n").filter { !$0.hasPrefix("sftp>") }.map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(Set(entries).subtracting(["/.", "/..", ".", ".."]) == ["/inbox"], "the chroot shows only the inbox: \(listing.output)")
            #expect(try sftp(uploader, "cd /etc\n").status != 0, "chrooted")
            let shell = try run("ssh", clientOptions(uploader) + ["-p", "\(port)", "\(uploader)@127.0.0.1", "echo", "shell-access"])
            #expect(!shell.stdout.contains("shell-access"), "SFTP only: \(shell.output)")

            // The running daemon may have taken it already: archiving is a rename, which keeps owner and mode.
            let inInbox = "/srv/watchfolder/inbox/\(name)"
            let uploaded = FileManager.default.fileExists(atPath: inInbox) ? inInbox : "/srv/watchfolder/archive/\(name)"
            let info = FileInfo(path: uploaded)
            #expect(info?.owner == uploader)
            #expect(info?.group == "watchfolder-upload", "the setgid inbox gives uploads its group")
            #expect((info?.mode ?? 0) & 0o040 != 0, "group-readable, so the service can read it: \(String(describing: info))")
            #expect((info?.mode ?? 0) & 0o022 == 0, "writable by its owner only: \(String(describing: info))")
        }

        /// Two uploaders, `owner` and `other`: `other` cannot delete, rename or overwrite `owner`'s upload, and
        /// nobody makes links or folders; `owner` can still remove their own.
        func checkFence(owner: String, other: String) throws {
            let file = scratch.appendingPathComponent("fence-upload.mp4"), mine = scratch.appendingPathComponent("other.mp4")
            try Data("the owner's upload".utf8).write(to: file)
            try Data("someone else's bytes".utf8).write(to: mine)
            chmod(file.path, 0o666)  // as a desktop's umask 0002 makes it: the recipe's -u 0022 keeps it the owner's
            let target = "/srv/watchfolder/inbox/fence-upload.mp4"
            #expect(try sftp(owner, "put \(file.path) fence-upload.mp4\n").status == 0)
            for command in ["rm fence-upload.mp4", "rename fence-upload.mp4 taken.mp4", "put \(mine.path) fence-upload.mp4",
                            "ln -s fence-upload.mp4 link.mp4", "ln -s /etc/watchfolder/config.toml config.mp4",
                            "ln fence-upload.mp4 hard.mp4", "mkdir folder"] {
                let result = try sftp(other, command + "\n")
                #expect(result.status != 0, "\(other): `\(command)` must be refused: \(result.output)")
            }
            for command in ["ln -s fence-upload.mp4 own-link.mp4", "ln fence-upload.mp4 own-hard.mp4", "mkdir own-folder"] {
                #expect(try sftp(owner, command + "\n").status != 0, "\(owner): `\(command)` must be refused")
            }
            #expect((try? String(contentsOfFile: target, encoding: .utf8)) == "the owner's upload", "intact")
            for name in ["taken.mp4", "link.mp4", "config.mp4", "hard.mp4", "folder", "own-link.mp4", "own-hard.mp4", "own-folder"] {
                var st = stat()
                #expect(lstat("/srv/watchfolder/inbox/\(name)", &st) != 0, "\(name) was made")
            }
            #expect(try sftp(owner, "rm fence-upload.mp4\n").status == 0, "an uploader removes their own upload")
            #expect(!FileManager.default.fileExists(atPath: target))
        }
    }

    /// The Samba recipe: an smbd whose config holds the doc's `[inbox]` share; `uploader` (a Samba password)
    /// puts `file` into a folder with smbclient; `other` (an uploader too) cannot delete it; a user outside
    /// the group is refused.
    static func smbUpload(_ file: URL, as uploader: String, other: String, outsider: String, scratch: URL) throws {
        let share = try block(containing: "# watchfolder: the inbox as a share")
        let group = try uploadGroup()
        #expect(share.contains("valid users = @\(group)") && share.contains("create mask = 0644"))
        let dir = scratch.appendingPathComponent("samba")
        for sub in ["private", "lock", "state", "cache", "pid", "ncalrpc"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let port = try freePort()
        let config = dir.appendingPathComponent("smb.conf")
        try """
            [global]
              smb ports = \(port)
              interfaces = 127.0.0.1
              bind interfaces only = yes
              server role = standalone server
              private dir = \(dir.path)/private
              lock directory = \(dir.path)/lock
              state directory = \(dir.path)/state
              cache directory = \(dir.path)/cache
              pid directory = \(dir.path)/pid
              ncalrpc dir = \(dir.path)/ncalrpc
              log file = \(dir.path)/log.%m
              passdb backend = tdbsam:\(dir.path)/private/passdb.tdb
              load printers = no
              printcap name = /dev/null
              disable spoolss = yes

            \(share)
            """.write(to: config, atomically: true, encoding: .utf8)
        try runChecked("testparm", ["-s", config.path])
        for user in [uploader, other, outsider] {
            let input = scratch.appendingPathComponent("pw")
            try "Secret-123\nSecret-123\n".write(to: input, atomically: true, encoding: .utf8)
            try runChecked("sh", ["-c", "smbpasswd -c '\(config.path)' -a -s '\(user)' < '\(input.path)'"])
        }
        let log = dir.appendingPathComponent("smbd.log")
        // --no-process-group: ServerProcess already gives it a group of its own (smbd signals that group when it stops).
        let smbd = try ServerProcess("smbd", ["--foreground", "--no-process-group", "--debug-stdout", "-s", config.path],
                                     log: log)
        defer { smbd.stop() }
        try smbd.waitUntilListening(on: port, timeout: 20)

        func smbclient(_ user: String, _ command: String) throws -> ProcessResult {
            try run("smbclient", ["//127.0.0.1/inbox", "-p", "\(port)", "-m", "SMB3", "-U", "\(user)%Secret-123",
                                  "-c", command])
        }
        let put = try smbclient(uploader, "mkdir smb; put \(file.path) smb/\(file.lastPathComponent)")
        #expect(put.status == 0, "smbclient put: \(put.output)")
        let uploaded = "/srv/watchfolder/inbox/smb/\(file.lastPathComponent)"
        #expect(FileInfo(path: uploaded) == FileInfo(mode: 0o644, owner: uploader, group: group))
        #expect(FileInfo(path: "/srv/watchfolder/inbox/smb") == FileInfo(mode: 0o3775, owner: uploader, group: group),
                "a shared folder is setgid and sticky like the inbox")
        // smbclient's exit status does not reflect a refused `del`: the file must still be there.
        _ = try smbclient(other, "del smb/\(file.lastPathComponent)")
        _ = try smbclient(other, "rename smb/\(file.lastPathComponent) smb/taken.mp4")
        #expect(FileManager.default.fileExists(atPath: uploaded), "another uploader cannot delete or rename it")
        let refused = try smbclient(outsider, "put \(file.path) outsider.mp4")
        #expect(refused.status != 0, "valid users = @\(group): \(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: "/srv/watchfolder/inbox/outsider.mp4"))
    }
}
