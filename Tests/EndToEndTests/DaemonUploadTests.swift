import Foundation
import TestSupport
import Testing

/// Runs `executable` with `input` on its standard input.
func runWithInput(_ executable: String, _ arguments: [String], input: String) throws -> ProcessResult {
    let process = ChildProcess()
    process.executableURL = try installedTool(executable)
    process.arguments = arguments
    let stdin = Pipe(), out = Pipe()
    process.standardInput = stdin
    process.standardOutput = out
    process.standardError = out
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
}

@Suite(.serialized) struct DaemonUploadTests {
    @Test func sftpUploadsBecomeExactlyOneJobAndOnePackageEach() async throws {
        try await withTemporaryDirectory { dir in
            let clip = try await Clips.shared()
            try #require(FileManager.default.fileExists(atPath: clip.path))
            let f = try DaemonFolders(root: dir, settle: 1)
            let ssh = dir.appendingPathComponent("ssh")
            try FileManager.default.createDirectory(at: ssh, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
            for key in ["hostkey", "clientkey"] {
                let r = try await tool("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", ssh.appendingPathComponent(key).path])
                #expect(r.status == 0, "\(r.stderr)")
            }
            try FileManager.default.copyItem(at: ssh.appendingPathComponent("clientkey.pub"),
                                             to: ssh.appendingPathComponent("authorized_keys"))
            let port = try freePort()
            let config = ssh.appendingPathComponent("sshd_config")
            try """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(ssh.appendingPathComponent("hostkey").path)
                PidFile \(ssh.appendingPathComponent("sshd.pid").path)
                AuthorizedKeysFile \(ssh.appendingPathComponent("authorized_keys").path)
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin yes
                StrictModes no
                UsePAM no
                Subsystem sftp internal-sftp

                """.write(to: config, atomically: true, encoding: .utf8)
            let sshd = try await ServerProcess.start("sshd", ["-D", "-e", "-f", config.path], port: port,
                                         log: ssh.appendingPathComponent("sshd.log"))
            let daemon = try await DaemonProcess.start(config: f.config)

            // A plain `put`, and a client that writes NAME.filepart and renames it when done (WinSCP, FileZilla).
            let batch = ssh.appendingPathComponent("batch")
            try """
                cd \(f.inbox.path)
                put \(clip.path) direct.mp4
                mkdir uploads
                put \(clip.path) uploads/parted.mp4.filepart
                rename uploads/parted.mp4.filepart uploads/parted.mp4

                """.write(to: batch, atomically: true, encoding: .utf8)
            let sftp = try await tool("sftp", ["-b", batch.path, "-i", ssh.appendingPathComponent("clientkey").path, "-P", "\(port)",
                                         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                         "-o", "BatchMode=yes", "root@127.0.0.1"])
            #expect(sftp.status == 0, "sftp: \(sftp.stderr)")
            try await waitUntil("both uploads completed", timeout: 90) {
                try await states(f.config) == ["direct.mp4": "completed", "uploads/parted.mp4": "completed"]
            }
            #expect(f.packages() == ["direct", "parted"])
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.completed'") == [["2"]])
            #expect(try Data(contentsOf: f.archive.appendingPathComponent("uploads/parted.mp4")) == Data(contentsOf: clip))
            #expect(await daemon.stop() == 0)
            withExtendedLifetime(sshd) {}
        }
    }

    @Test func smbUploadsBecomeExactlyOneJobAndOnePackageEach() async throws {
        try await withTemporaryDirectory { dir in
            let clip = try await Clips.shared()
            try #require(FileManager.default.fileExists(atPath: clip.path))
            let f = try DaemonFolders(root: dir, settle: 1)
            let smb = dir.appendingPathComponent("smb")
            for sub in ["private", "lock", "state", "cache", "pid"] {
                try FileManager.default.createDirectory(at: smb.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            let port = try freePort()
            let conf = smb.appendingPathComponent("smb.conf")
            try """
                [global]
                  workgroup = WFTEST
                  server role = standalone server
                  smb ports = \(port)
                  interfaces = 127.0.0.1
                  bind interfaces only = yes
                  disable netbios = yes
                  private dir = \(smb.appendingPathComponent("private").path)
                  lock directory = \(smb.appendingPathComponent("lock").path)
                  state directory = \(smb.appendingPathComponent("state").path)
                  cache directory = \(smb.appendingPathComponent("cache").path)
                  pid directory = \(smb.appendingPathComponent("pid").path)
                  ncalrpc dir = \(smb.appendingPathComponent("state").path)/ncalrpc
                  passdb backend = tdbsam:\(smb.appendingPathComponent("private/passdb.tdb").path)
                  log file = \(smb.appendingPathComponent("log.smbd").path)
                  load printers = no
                  printcap name = /dev/null
                  disable spoolss = yes
                  server min protocol = SMB2

                [inbox]
                  path = \(f.inbox.path)
                  read only = no
                  force user = root

                """.write(to: conf, atomically: true, encoding: .utf8)
            let passwd = try await offPool { try runWithInput("smbpasswd", ["-c", conf.path, "-s", "-a", "root"], input: "wf-pass\nwf-pass\n") }
            #expect(passwd.status == 0, "smbpasswd: \(passwd.stdout)")
            let smbd = try await ServerProcess.start("smbd", ["--foreground", "--no-process-group", "-s", conf.path], port: port,
                                         log: smb.appendingPathComponent("smbd.out"))
            let daemon = try await DaemonProcess.start(config: f.config)

            // Like Windows Explorer and macOS Finder: the file is created, written and closed over SMB.
            let put = try await tool("smbclient", ["//127.0.0.1/inbox", "-p", "\(port)", "-U", "root%wf-pass", "-s", conf.path,
                                             "-c", "mkdir share; put \(clip.path) share/from-smb.mp4; put \(clip.path) top.mov"])
            #expect(put.status == 0, "smbclient: \(put.stdout) \(put.stderr)")
            try await waitUntil("both uploads completed", timeout: 90) {
                try await states(f.config) == ["share/from-smb.mp4": "completed", "top.mov": "completed"]
            }
            #expect(f.packages() == ["from-smb", "top"])
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.completed'") == [["2"]])
            #expect(await daemon.stop() == 0)
            withExtendedLifetime(smbd) {}
        }
    }
}
