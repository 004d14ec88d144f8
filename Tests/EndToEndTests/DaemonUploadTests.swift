import Foundation
import Testing

/// A free TCP port on 127.0.0.1 (bound to port 0 and released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw Timeout(description: "cannot bind a port: errno \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
func isListening(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A server (sshd, smbd) run in the foreground for one test, stopped and reaped after it. Spawned with
/// posix_spawn rather than Foundation's `Process`, whose child reaping stalled here while servers ran.
final class ServerProcess: @unchecked Sendable {
    let pid: pid_t

    init(_ executable: String, _ arguments: [String], port: Int, log: URL) throws {
        guard let url = which(executable) else { throw Timeout(description: "\(executable) is not installed; `make test` installs it") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([url.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Its own process group: smbd signals its whole group when it stops.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, url.path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw Timeout(description: "posix_spawn \(executable): errno \(rc)") }
        self.pid = pid
        try waitUntil("\(executable) listens on port \(port)", timeout: 20) {
            guard kill(pid, 0) == 0 else {
                throw Timeout(description: "\(executable) exited: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            return isListening(port)
        }
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 where waitpid(pid, &status, WNOHANG) == 0 { usleep(50_000) }
        if waitpid(pid, &status, WNOHANG) == 0 { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
    }
}

/// Runs `executable` with `input` on its standard input.
func runWithInput(_ executable: String, _ arguments: [String], input: String) throws -> ProcessResult {
    guard let url = which(executable) else { throw Timeout(description: "\(executable) is not installed") }
    let process = Process()
    process.executableURL = url
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
            let clip = try #require(FileManager.default.fileExists(atPath: Clips.shared.path) ? Clips.shared : nil)
            let f = try DaemonFolders(root: dir, settle: 1)
            let ssh = dir.appendingPathComponent("ssh")
            try FileManager.default.createDirectory(at: ssh, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
            for key in ["hostkey", "clientkey"] {
                let r = try tool("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", ssh.appendingPathComponent(key).path])
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
            let sshd = try ServerProcess("sshd", ["-D", "-e", "-f", config.path], port: port,
                                         log: ssh.appendingPathComponent("sshd.log"))
            let daemon = try DaemonProcess(config: f.config)

            // A plain `put`, and a client that writes NAME.filepart and renames it when done (WinSCP, FileZilla).
            let batch = ssh.appendingPathComponent("batch")
            try """
                cd \(f.inbox.path)
                put \(clip.path) direct.mp4
                mkdir uploads
                put \(clip.path) uploads/parted.mp4.filepart
                rename uploads/parted.mp4.filepart uploads/parted.mp4

                """.write(to: batch, atomically: true, encoding: .utf8)
            let sftp = try tool("sftp", ["-b", batch.path, "-i", ssh.appendingPathComponent("clientkey").path, "-P", "\(port)",
                                         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                         "-o", "BatchMode=yes", "root@127.0.0.1"])
            #expect(sftp.status == 0, "sftp: \(sftp.stderr)")
            try waitUntil("both uploads completed", timeout: 90) {
                try states(f.config) == ["direct.mp4": "completed", "uploads/parted.mp4": "completed"]
            }
            #expect(f.packages() == ["direct", "parted"])
            #expect(try sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.completed'") == [["2"]])
            #expect(try Data(contentsOf: f.archive.appendingPathComponent("uploads/parted.mp4")) == Data(contentsOf: clip))
            #expect(daemon.stop() == 0)
            withExtendedLifetime(sshd) {}
        }
    }

    @Test func smbUploadsBecomeExactlyOneJobAndOnePackageEach() async throws {
        try await withTemporaryDirectory { dir in
            let clip = try #require(FileManager.default.fileExists(atPath: Clips.shared.path) ? Clips.shared : nil)
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
            let passwd = try runWithInput("smbpasswd", ["-c", conf.path, "-s", "-a", "root"], input: "wf-pass\nwf-pass\n")
            #expect(passwd.status == 0, "smbpasswd: \(passwd.stdout)")
            let smbd = try ServerProcess("smbd", ["--foreground", "--no-process-group", "-s", conf.path], port: port,
                                         log: smb.appendingPathComponent("smbd.out"))
            let daemon = try DaemonProcess(config: f.config)

            // Like Windows Explorer and macOS Finder: the file is created, written and closed over SMB.
            let put = try tool("smbclient", ["//127.0.0.1/inbox", "-p", "\(port)", "-U", "root%wf-pass", "-s", conf.path,
                                             "-c", "mkdir share; put \(clip.path) share/from-smb.mp4; put \(clip.path) top.mov"])
            #expect(put.status == 0, "smbclient: \(put.stdout) \(put.stderr)")
            try waitUntil("both uploads completed", timeout: 90) {
                try states(f.config) == ["share/from-smb.mp4": "completed", "top.mov": "completed"]
            }
            #expect(f.packages() == ["from-smb", "top"])
            #expect(try sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.completed'") == [["2"]])
            #expect(daemon.stop() == 0)
            withExtendedLifetime(smbd) {}
        }
    }
}
