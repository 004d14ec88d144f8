import Foundation
import Glibc
import TestSupport
import Testing

/// The upload recipes of `docs/deb.md`, applied as written (the config blocks are read from the doc) to a
/// private sshd and smbd on free loopback ports, with throwaway accounts made by the doc's commands.
/// They need the package installed (user, group and folders).
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

    /// The SFTP recipe: `uploader` (groups sftponly + watchfolder, key in ~/.ssh/authorized_keys) uploads `file`
    /// with sftp to an sshd whose config ends with the doc's `Match Group` block. Checks the session lands in
    /// /inbox, is chrooted (no shell, outbox not writable) and the upload is in the inbox with group watchfolder.
    /// `uploaded` runs while sshd is still up.
    static func sftpUpload(_ file: URL, as uploader: String, scratch: URL) throws {
        let match = try block(containing: "# watchfolder: SFTP-only uploads into the inbox")
        #expect(match.contains("ChrootDirectory /srv/watchfolder") && match.contains("ForceCommand internal-sftp"))
        let key = scratch.appendingPathComponent("uploader_key"), hostKey = scratch.appendingPathComponent("host_key")
        try runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key.path])
        try runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey.path])
        let home = "/home/\(uploader)"
        try runChecked("install", ["-d", "-m", "700", "-o", uploader, "-g", uploader, "\(home)/.ssh"])
        try runChecked("install", ["-m", "600", "-o", uploader, "-g", uploader, key.path + ".pub", "\(home)/.ssh/authorized_keys"])

        let port = try freePort()
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
        let log = scratch.appendingPathComponent("sshd.log")
        let sshd = try ServerProcess("/usr/sbin/sshd", ["-D", "-e", "-f", config.path], log: log)
        defer { sshd.stop() }
        try sshd.waitUntilListening(on: port, timeout: 20)

        let client = ["-i", key.path, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                      "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
        func sftp(_ commands: String) throws -> ProcessResult {
            let batch = scratch.appendingPathComponent("batch-\(UUID().uuidString)")
            try commands.write(to: batch, atomically: true, encoding: .utf8)
            return try run("sftp", client + ["-P", "\(port)", "-b", batch.path, "\(uploader)@127.0.0.1"])
        }
        let session = try sftp("pwd\nput \(file.path) \(file.lastPathComponent).part\nrename \(file.lastPathComponent).part \(file.lastPathComponent)\n")
        #expect(session.status == 0, "sftp upload: \(session.output)")
        #expect(session.stdout.contains("Remote working directory: /inbox"), "\(session.output)")
        #expect(try sftp("put \(file.path) /outbox/\(file.lastPathComponent)\n").status != 0, "the outbox is read-only to uploaders")
        #expect(try sftp("cd /etc\n").status != 0, "chrooted to /srv/watchfolder")
        let shell = try run("ssh", client + ["-p", "\(port)", "\(uploader)@127.0.0.1", "echo", "shell-access"])
        #expect(!shell.stdout.contains("shell-access"), "SFTP only: \(shell.output)")

        // The running daemon may have taken it already: archiving is a rename, which keeps owner and mode.
        let inInbox = "/srv/watchfolder/inbox/\(file.lastPathComponent)"
        let uploaded = FileManager.default.fileExists(atPath: inInbox)
            ? inInbox : "/srv/watchfolder/archive/\(file.lastPathComponent)"
        #expect(FileInfo(path: uploaded)?.owner == uploader)
        #expect(FileInfo(path: uploaded)?.group == "watchfolder", "the setgid inbox gives uploads group watchfolder")
        #expect((FileInfo(path: uploaded)?.mode ?? 0) & 0o040 != 0, "group-readable, so the daemon can read it")
    }

    /// The Samba recipe: an smbd whose config holds the doc's `[inbox]` share; `uploader` (group watchfolder,
    /// a Samba password) puts `file` with smbclient; a user outside the group is refused.
    static func smbUpload(_ file: URL, as uploader: String, outsider: String, scratch: URL) throws {
        let share = try block(containing: "# watchfolder: the inbox as a share")
        #expect(share.contains("force group = watchfolder") && share.contains("create mask = 0664"))
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
        for user in [uploader, outsider] {
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
        #expect(FileInfo(path: uploaded) == FileInfo(mode: 0o664, owner: uploader, group: "watchfolder"))
        #expect(FileInfo(path: "/srv/watchfolder/inbox/smb") == FileInfo(mode: 0o2775, owner: uploader, group: "watchfolder"))
        let refused = try smbclient(outsider, "put \(file.path) outsider.mp4")
        #expect(refused.status != 0, "valid users = @watchfolder: \(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: "/srv/watchfolder/inbox/outsider.mp4"))
    }
}
