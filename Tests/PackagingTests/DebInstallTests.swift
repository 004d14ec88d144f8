import Foundation
import Glibc
import TestSupport
import Testing

/// Installs the .deb on this machine for real (apt-get), checks what it made, runs the installed daemon as user
/// `watchfolder` on a dropped clip, upgrades with an edited config, removes and purges; then leaves the machine
/// as it found it. Needs root; never runs twice at once (a lock file), refuses to touch an existing install. An
/// install a killed earlier run left behind (its marker file says so) is removed first.
@Suite("deb: install, run, upgrade, purge on this machine", .serialized)
struct DebInstallTests {
    static let lockPath = "/run/lock/watchfolder-deb-test.lock"
    /// Present while this test's install is on the machine; holds what existed before it ("srv render").
    static let markerPath = "/var/tmp/watchfolder-deb-test.installed"
    static let unitWants = "/etc/systemd/system/multi-user.target.wants/watchfolder.service"
    static let apt = ["-y", "-q", "-o", "DPkg::Lock::Timeout=600", "-o", "Dpkg::Use-Pty=0"]
    static let aptEnvironment = ["DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8"]
    /// `python3 -c denyWriteExecute PROGRAM ARGS...`: runs PROGRAM with PR_SET_MDWE (65), PR_MDWE_REFUSE_EXEC_GAIN.
    static let denyWriteExecute = """
        import ctypes, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(65, 1, 0, 0, 0) != 0:
            sys.exit("prctl(PR_SET_MDWE): errno %d" % ctypes.get_errno())
        os.execv(sys.argv[1], sys.argv[1:])
        """

    @Test("install → files, user, permissions, conffile; run as watchfolder; upgrade keeps the config; purge keeps media")
    func lifecycle() async throws {
        try await offPool { try Self.lifecycleBody() }
    }

    /// Purges the package and removes what its install made (the media folder, the user and group, `render` and
    /// `/srv` unless they existed before), then the marker.
    static func removeTestInstall(srvExisted: Bool, renderExisted: Bool) {
        _ = try? run("apt-get", ["purge"] + apt + ["watchfolder"], environment: aptEnvironment)
        for user in testUsers { UploadRecipes.remove(user: user) }
        // The SFTP chroot is unmounted before anything is removed: it shows the inbox.
        try? UploadRecipes.SFTP.removeChroot(chroot: "/srv/watchfolder-sftp", mountPoint: "/srv/watchfolder-sftp/inbox")
        try? FileManager.default.removeItem(atPath: "/srv/watchfolder")
        if !srvExisted { try? FileManager.default.removeItem(atPath: "/srv") }
        if !renderExisted { _ = try? run("delgroup", ["--quiet", "--system", "render"]) }
        _ = try? run("deluser", ["--quiet", "--system", "watchfolder"])
        for group in ["watchfolder", "watchfolder-upload"] { _ = try? run("delgroup", ["--quiet", "--system", group]) }
        try? FileManager.default.removeItem(atPath: markerPath)
    }

    /// The throwaway accounts the tests make.
    static let testUsers = ["wftestsftp", "wftestsftp2", "wftestsmb", "wftestout", "wftestold"]

    /// Runs `body` with this machine to itself (a lock), after checking nothing of watchfolder is here, and
    /// removes what the test installed afterwards, even when `body` fails. `body` gets the inotify limit files.
    static func withTestInstall(_ body: ([String]) throws -> Void) throws {
        try #require(getuid() == 0, "installing a .deb needs root")
        let lock = open(Self.lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        try #require(lock >= 0)
        defer { close(lock) }
        try #require(flock(lock, LOCK_EX) == 0)

        // A run killed mid-way (a crashed test process, a pulled plug) left its install: remove it as it would have.
        if let leftover = try? String(contentsOfFile: Self.markerPath, encoding: .utf8) {
            Self.removeTestInstall(srvExisted: leftover.contains("srv"), renderExisted: leftover.contains("render"))
        }
        // Never mix with a real installation or real media.
        let installed = try run("dpkg-query", ["-W", "-f", "${Status}", "watchfolder"]).stdout
        try #require(!installed.contains("installed"), "watchfolder is installed on this machine: \(installed)")
        try #require(!FileManager.default.fileExists(atPath: "/srv/watchfolder"), "/srv/watchfolder exists already")
        try #require(!FileManager.default.fileExists(atPath: "/srv/watchfolder-sftp"), "/srv/watchfolder-sftp exists already")
        try #require(try run("getent", ["passwd", "watchfolder"]).status != 0, "a user watchfolder exists already")
        let renderExisted = try run("getent", ["group", "render"]).status == 0
        // postinst applies the inotify limits (where /proc/sys is writable); the machine gets its own back.
        let limits = ["max_user_watches", "max_user_instances"].map { "/proc/sys/fs/inotify/\($0)" }
        let savedLimits = limits.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }
        defer {
            for (path, value) in zip(limits, savedLimits) where !value.isEmpty {
                try? value.write(toFile: path, atomically: false, encoding: .utf8)
            }
        }
        let srvExisted = FileManager.default.fileExists(atPath: "/srv")
        try ((srvExisted ? "srv " : "") + (renderExisted ? "render" : "")).write(toFile: Self.markerPath, atomically: true, encoding: .utf8)
        defer { Self.removeTestInstall(srvExisted: srvExisted, renderExisted: renderExisted) }
        try body(limits)
    }

    static func lifecycleBody() throws {
        let deb = try builtDeb()
        let version = try sourceVersion()
        try withTestInstall { limits in try lifecycle(deb: deb, version: version, limits: limits) }
    }

    static func lifecycle(deb: URL, version: String, limits: [String]) throws {
        // Install.
        try runChecked("apt-get", ["install"] + Self.apt + [deb.path], environment: Self.aptEnvironment, timeout: 600)
        #expect(try run("dpkg-query", ["-W", "-f", "${Version}", "watchfolder"]).stdout == version)
        #expect(try runChecked("/usr/bin/watchfolder", ["--version"]).stdout.trimmed == version)

        // The user and group: a system account without a shell, home = the state folder.
        let passwd = try runChecked("getent", ["passwd", "watchfolder"]).stdout.trimmed.split(separator: ":")
        #expect(passwd.count == 7)
        if passwd.count == 7 {
            #expect((Int(passwd[2]) ?? 0) < 1000 && (Int(passwd[2]) ?? 0) > 0, "a system uid: \(passwd)")
            #expect(passwd[5] == "/var/lib/watchfolder")
            #expect(passwd[6] == "/usr/sbin/nologin")
        }
        #expect(try run("getent", ["group", "watchfolder"]).status == 0)
        #expect(try run("getent", ["group", "watchfolder-upload"]).status == 0, "the uploaders' group")
        #expect(try run("getent", ["group", "render"]).status == 0, "the unit's SupplementaryGroups needs it")

        // Folders and permissions: the inbox root's, writable by the uploaders' group, setgid and sticky; the
        // state the service's alone.
        #expect(FileInfo(path: "/srv/watchfolder") == FileInfo(mode: 0o755, owner: "root", group: "root"))
        #expect(FileInfo(path: "/srv/watchfolder/inbox") == FileInfo(mode: 0o3775, owner: "root", group: "watchfolder-upload"))
        for dir in ["outbox", "archive", "failed"] {
            #expect(FileInfo(path: "/srv/watchfolder/\(dir)") == FileInfo(mode: 0o2755, owner: "watchfolder", group: "watchfolder"))
        }
        #expect(FileInfo(path: "/var/lib/watchfolder") == FileInfo(mode: 0o700, owner: "watchfolder", group: "watchfolder"))
        #expect(FileInfo(path: "/etc/watchfolder/config.toml") == FileInfo(mode: 0o640, owner: "root", group: "watchfolder"))
        #expect(FileInfo(path: "/usr/bin/watchfolder") == FileInfo(mode: 0o755, owner: "root", group: "root"))

        // inotify limits.
        let sysctl = try String(contentsOfFile: "/etc/sysctl.d/60-watchfolder.conf", encoding: .utf8)
        #expect(sysctl.contains("fs.inotify.max_user_watches = 1048576"))
        #expect(sysctl.contains("fs.inotify.max_user_instances = 1024"))
        if access(limits[1], W_OK) == 0 {  // applied at install where /proc/sys is writable (not in every container)
            #expect((try? String(contentsOfFile: limits[1], encoding: .utf8))?.trimmed == "1024", "postinst applies the limits")
        }

        // systemd: enabled on install (deb-systemd-helper works without a running systemd), started on install,
        // restarted on upgrade and stopped on removal by the debhelper snippets; the installed unit verifies.
        #expect(FileManager.default.fileExists(atPath: Self.unitWants), "enabled: \(Self.unitWants)")
        let postinst = try String(contentsOfFile: "/var/lib/dpkg/info/watchfolder.postinst", encoding: .utf8)
        #expect(postinst.contains("deb-systemd-helper enable 'watchfolder.service'"))
        #expect(postinst.contains("_dh_action=restart") && postinst.contains("deb-systemd-invoke $_dh_action 'watchfolder.service'"))
        let prerm = try String(contentsOfFile: "/var/lib/dpkg/info/watchfolder.prerm", encoding: .utf8)
        #expect(prerm.contains("deb-systemd-invoke stop 'watchfolder.service'"))
        let verify = try run("systemd-analyze", ["verify", "/lib/systemd/system/watchfolder.service"],
                             environment: ["SYSTEMD_COLORS": "0"])
        #expect(verify.status == 0 && verify.output.trimmed.isEmpty, "systemd-analyze verify: \(verify.output)")
        #expect(try run("man", ["-w", "watchfolder"]).stdout.contains("/usr/share/man/man1/watchfolder.1.gz"))

        let configPath = "/etc/watchfolder/config.toml"
        let config = try editConfig(configPath)

        // The installed binary as user watchfolder, with the installed config, on the installed folders; the clip
        // arrives as the SFTP recipe's uploader would send it. Then the Samba recipe.
        #expect(try run("setpriv", ["--reuid=watchfolder", "--regid=watchfolder", "--init-groups",
                                    "/usr/bin/watchfolder", "check-config", "--config", configPath]).status == 0)
        let group = try UploadRecipes.uploadGroup()
        #expect(group == "watchfolder-upload", "the recipes' uploaders join the uploaders' group")
        defer { for user in Self.testUsers { UploadRecipes.remove(user: user) } }
        for user in ["wftestsftp", "wftestsftp2", "wftestsmb"] { try UploadRecipes.addUploader(user, groups: [group]) }
        try UploadRecipes.addUploader("wftestout", groups: [])
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wf-recipes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            let sftp = try UploadRecipes.SFTP(scratch: scratch)
            defer { sftp.stop() }
            for user in ["wftestsftp", "wftestsftp2"] { try sftp.authorize(user) }
            // The daemon takes the upload out of the sticky inbox it does not own (archived: a rename).
            try dropClipAndAwaitPackage(configPath: configPath) { clip, _ in try sftp.upload(clip, as: "wftestsftp") }
            try sftp.checkFence(owner: "wftestsftp", other: "wftestsftp2")
        }
        // The CLI as the guide runs it (`sudo -u watchfolder -g watchfolder-upload watchfolder ...`, default config).
        let cli = try run("setpriv", ["--reuid=watchfolder", "--regid=watchfolder-upload", "--init-groups",
                                      "/usr/bin/watchfolder", "jobs", "--json"])
        #expect(cli.status == 0 && cli.stdout.contains("\"installed-clip.mp4\""), "\(cli.output)")
        for user in ["wftestsftp", "wftestsftp2", "wftestsmb"] { try UploadRecipes.checkUploaderCanOnlyWriteTheInbox(user) }
        let smbFile = scratch.appendingPathComponent("smb-clip.mp4")
        try Data(repeating: 7, count: 100_000).write(to: smbFile)
        try UploadRecipes.smbUpload(smbFile, as: "wftestsmb", other: "wftestsftp", outsider: "wftestout", scratch: scratch)
        // Uploaders keep the group watchfolder-upload alive through a purge (as documented); these ones go now.
        for user in Self.testUsers { UploadRecipes.remove(user: user) }

        // Upgrade to a rebuilt, higher version: the edited conffile stays, the user stays.
        let upgraded = "\(version)+upgradetest1"
        let upgradeDir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-upgrade-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: upgradeDir) }
        let binary = try extract(deb)
        defer { try? FileManager.default.removeItem(at: binary) }
        let build = try runChecked(packageRoot.appendingPathComponent("packaging/deb/build-deb.sh").path, [],
                                   environment: ["WATCHFOLDER_DEB_VERSION": upgraded,
                                                 "WATCHFOLDER_DEB_BINARY": binary.appendingPathComponent("usr/bin/watchfolder").path,
                                                 "WATCHFOLDER_DEB_OUT": upgradeDir.path,
                                                 // Fast to build; the shipped package uses dpkg's default (xz).
                                                 "DPKG_DEB_COMPRESSOR_TYPE": "gzip", "DPKG_DEB_COMPRESSOR_LEVEL": "1"],
                                   timeout: 900)
        let upgradeDeb = build.stdout.trimmed.split(separator: "\n").last.map(String.init) ?? ""
        #expect(upgradeDeb.hasSuffix("watchfolder_\(upgraded)_amd64.deb"))
        let uid = try runChecked("id", ["-u", "watchfolder"]).stdout
        try runChecked("apt-get", ["install"] + Self.apt + [upgradeDeb], environment: Self.aptEnvironment, timeout: 600)
        #expect(try run("dpkg-query", ["-W", "-f", "${Version}", "watchfolder"]).stdout == upgraded)
        #expect(try String(contentsOfFile: configPath, encoding: .utf8) == config, "the edited conffile is kept")
        #expect(!FileManager.default.fileExists(atPath: configPath + ".dpkg-dist"))
        #expect(FileInfo(path: configPath) == FileInfo(mode: 0o640, owner: "root", group: "watchfolder"))
        #expect(try runChecked("id", ["-u", "watchfolder"]).stdout == uid)

        // Media that must survive everything below.
        let media = "/srv/watchfolder/inbox/keep-me.mp4"
        try Data("not really a video".utf8).write(to: URL(fileURLWithPath: media))

        // Remove: the program goes, config, state and user stay.
        try runChecked("apt-get", ["remove"] + Self.apt + ["watchfolder"], environment: Self.aptEnvironment, timeout: 600)
        #expect(!FileManager.default.fileExists(atPath: "/usr/bin/watchfolder"))
        #expect(FileManager.default.fileExists(atPath: configPath))
        #expect(FileManager.default.fileExists(atPath: "/var/lib/watchfolder"))
        #expect(try run("getent", ["passwd", "watchfolder"]).status == 0)

        // Purge: user, group, state and config go; the media stays.
        let purge = try runChecked("apt-get", ["purge"] + Self.apt + ["watchfolder"], environment: Self.aptEnvironment,
                                   timeout: 600)
        #expect(purge.output.contains("your media in /srv/watchfolder is kept"), "purge says so: \(purge.output)")
        #expect(try run("dpkg-query", ["-W", "-f", "${Status}", "watchfolder"]).stdout.contains("installed") == false)
        #expect(try run("getent", ["passwd", "watchfolder"]).status != 0, "user removed")
        #expect(try run("getent", ["group", "watchfolder"]).status != 0, "group removed")
        #expect(try run("getent", ["group", "watchfolder-upload"]).status != 0, "group removed (no uploaders left)")
        #expect(!FileManager.default.fileExists(atPath: "/var/lib/watchfolder"), "state removed")
        #expect(!FileManager.default.fileExists(atPath: "/etc/watchfolder"), "config removed")
        #expect(!FileManager.default.fileExists(atPath: "/etc/sysctl.d/60-watchfolder.conf"))
        #expect(!FileManager.default.fileExists(atPath: Self.unitWants))
        #expect(try run("dpkg-statoverride", ["--list", configPath]).status != 0)
        #expect(FileManager.default.fileExists(atPath: media), "purge never deletes media")
        #expect(FileManager.default.fileExists(atPath: "/srv/watchfolder/outbox"))
    }

    /// Edits the conffile as an administrator would (also: a free status port, a short settle time); returns it.
    static func editConfig(_ configPath: String) throws -> String {
        var config = try String(contentsOfFile: configPath, encoding: .utf8)
        #expect(config.contains("path = \"/srv/watchfolder/inbox\""))
        #expect(config.contains("settle_seconds = 5\n") && config.contains("listen = \"127.0.0.1:8080\"\n"),
                "the edits below find their lines")
        config = config.replacingOccurrences(of: "settle_seconds = 5", with: "settle_seconds = 1")
        config = config.replacingOccurrences(of: "listen = \"127.0.0.1:8080\"", with: "listen = \"127.0.0.1:\(try freePort())\"")
        config += "\n# edited by the administrator\n"
        try config.write(toFile: configPath, atomically: false, encoding: .utf8)
        return config
    }

    @Test("upgrade from 0.1.0: inbox and state fenced, the old uploaders named and still uploading, the changelog says so")
    func upgradeFromFirstRelease() async throws {
        try await offPool {
            let deb = try builtDeb()
            try Self.withTestInstall { _ in try Self.upgradeFromFirstRelease(to: deb) }
        }
    }

    /// Builds 0.1.0's package (``firstRelease(around:scratch:)``), installs it with an uploader as its guide said
    /// (`adduser alice watchfolder`), upgrades to `deb` and checks the appliance still works and says what to do.
    static func upgradeFromFirstRelease(to deb: URL) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wf-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let binary = try extract(deb)
        defer { try? FileManager.default.removeItem(at: binary) }
        let first = try firstRelease(around: binary.appendingPathComponent("usr/bin/watchfolder"), scratch: scratch)
        try runChecked("apt-get", ["install"] + Self.apt + [first.path], environment: Self.aptEnvironment, timeout: 600)
        #expect(try run("dpkg-query", ["-W", "-f", "${Version}", "watchfolder"]).stdout == "0.1.0")
        #expect(FileInfo(path: "/srv/watchfolder/inbox") == FileInfo(mode: 0o2775, owner: "watchfolder", group: "watchfolder"),
                "0.1.0's layout")
        defer { for user in Self.testUsers { UploadRecipes.remove(user: user) } }
        try UploadRecipes.addUploader("wftestold", groups: ["watchfolder"])  // 0.1.0's recipe
        #expect(try UploadRecipes.asUser("wftestold", ["touch", "/srv/watchfolder/inbox/.before-upgrade"]).status == 0)

        let upgrade = try runChecked("apt-get", ["install"] + Self.apt + [deb.path], environment: Self.aptEnvironment, timeout: 600)
        #expect(try run("dpkg-query", ["-W", "-f", "${Version}", "watchfolder"]).stdout == (try sourceVersion()))
        for line in ["watchfolder: these members of group watchfolder can read /etc/watchfolder/config.toml (secrets): wftestold",
                     "watchfolder:   sudo deluser wftestold watchfolder"] {
            #expect(upgrade.output.contains(line), "the upgrade says: \(line)\n\(upgrade.output)")
        }
        #expect(FileInfo(path: "/srv/watchfolder/inbox") == FileInfo(mode: 0o3775, owner: "root", group: "watchfolder-upload"))
        #expect(FileInfo(path: "/var/lib/watchfolder") == FileInfo(mode: 0o700, owner: "watchfolder", group: "watchfolder"))
        #expect(FileManager.default.fileExists(atPath: "/srv/watchfolder/inbox/.before-upgrade"), "the inbox's files stay")
        #expect(try runChecked("id", ["-nG", "wftestold"]).stdout.trimmed.split(separator: " ").contains("watchfolder-upload"))
        let changelog = try runChecked("sh", ["-c", "zcat /usr/share/doc/watchfolder/changelog.gz"]).stdout
        #expect(changelog.contains("Upgrading from 0.1.0") && changelog.contains("sudo deluser NAME watchfolder"), "\(changelog)")

        // Still a working appliance: the old uploader's drop becomes a package, its source is archived.
        let configPath = "/etc/watchfolder/config.toml"
        _ = try editConfig(configPath)
        try dropClipAndAwaitPackage(configPath: configPath) { clip, _ in
            let copy = try UploadRecipes.asUser("wftestold", ["cp", clip.path, "/srv/watchfolder/inbox/\(clip.lastPathComponent)"])
            #expect(copy.status == 0, "the old uploader still uploads: \(copy.output)")
        }
        // Done as the upgrade said, the old uploader can write the inbox and nothing else.
        try runChecked("deluser", ["--quiet", "wftestold", "watchfolder"])
        try UploadRecipes.checkUploaderCanOnlyWriteTheInbox("wftestold")
    }

    /// watchfolder 0.1.0's package: its packaging, unit and maintainer scripts from git (the tree just before
    /// `Version.swift` stopped saying 0.1.0) around `binary` (today's; 0.1.0's build script checks that the
    /// binary reports the version its `Version.swift` names, so that file is given today's version).
    static func firstRelease(around binary: URL, scratch: URL) throws -> URL {
        let git = ["-C", packageRoot.path]
        let bump = try runChecked("git", git + ["log", "-1", "--format=%H", "-S", "string = \"0.1.0\"", "--",
                                                "Sources/WatchFolder/Version.swift"]).stdout.trimmed
        let commit = bump + "^"
        let versionFile = try runChecked("git", git + ["show", "\(commit):Sources/WatchFolder/Version.swift"]).stdout
        try #require(versionFile.contains("string = \"0.1.0\""), "\(commit) is not 0.1.0: \(versionFile)")
        let tree = scratch.appendingPathComponent("first-release")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try runChecked("sh", ["-c", "git -C '\(packageRoot.path)' archive '\(commit)' packaging Sources/WatchFolder/Version.swift "
                              + "config.example.toml README.md docs/deb.md | tar -x -C '\(tree.path)'"])
        try versionFile.replacingOccurrences(of: "\"0.1.0\"", with: "\"\(try sourceVersion())\"")
            .write(to: tree.appendingPathComponent("Sources/WatchFolder/Version.swift"), atomically: true, encoding: .utf8)
        let build = try runChecked(tree.appendingPathComponent("packaging/deb/build-deb.sh").path, [],
                                   environment: ["WATCHFOLDER_DEB_VERSION": "0.1.0", "WATCHFOLDER_DEB_BINARY": binary.path,
                                                 "WATCHFOLDER_DEB_OUT": scratch.path,
                                                 "DPKG_DEB_COMPRESSOR_TYPE": "gzip", "DPKG_DEB_COMPRESSOR_LEVEL": "1"],
                                   timeout: 900)
        return URL(fileURLWithPath: build.stdout.trimmed.split(separator: "\n").last.map(String.init) ?? "")
    }

    /// The installed unit's credentials and limits as a command prefix, for running the daemon as systemd would
    /// without systemd: `prlimit` for `LimitNOFILE=`, `setpriv` for `User=`, `Group=`, `SupplementaryGroups=`,
    /// `AmbientCapabilities=`, `CapabilityBoundingSet=` and `NoNewPrivileges=`.
    static func serviceLauncher(unit: String = "/lib/systemd/system/watchfolder.service") throws -> [String] {
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        func value(_ key: String) -> String? {
            text.split(separator: "\n").last { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        func capabilities(_ key: String) -> String {
            (value(key) ?? "").split(separator: " ").map { "+" + $0.lowercased().replacingOccurrences(of: "cap_", with: "") }
                .joined(separator: ",")
        }
        var launcher: [String] = []
        if let files = value("LimitNOFILE") { launcher += [try installedTool("prlimit").path, "--nofile=\(files):\(files)", "--"] }
        launcher += [try installedTool("setpriv").path, "--reuid=\(value("User") ?? "")", "--regid=\(value("Group") ?? "")",
                     "--groups=" + (value("SupplementaryGroups") ?? "").split(separator: " ").joined(separator: ",")]
        let ambient = capabilities("AmbientCapabilities")
        if !ambient.isEmpty { launcher += ["--inh-caps=\(ambient)", "--ambient-caps=\(ambient)"] }
        launcher += ["--bounding-set=-all" + (capabilities("CapabilityBoundingSet").isEmpty ? "" : "," + capabilities("CapabilityBoundingSet"))]
        if value("NoNewPrivileges") == "yes" { launcher.append("--no-new-privs") }
        return launcher + ["--"]
    }

    /// Starts `watchfolder run` as the installed unit would (``serviceLauncher(unit:)``), has `upload(clip, scratch)`
    /// put a 2 s clip into the inbox and waits for its HLS package in the outbox and the source in the archive
    /// (moved out of the sticky inbox, which the service does not own); stops the daemon with SIGTERM.
    static func dropClipAndAwaitPackage(configPath: String, upload: (URL, URL) throws -> Void) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wf-clip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let clip = scratch.appendingPathComponent("installed-clip.mp4")
        try runChecked("ffmpeg", ["-y", "-hide_banner", "-loglevel", "error",
                                  "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2",
                                  "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
                                  "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                                  "-c:a", "aac", "-shortest", clip.path])

        // The unit's MemoryDenyWriteExecute=yes, without systemd: prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)
        // is inherited through exec, so the transcode below proves the encoders run without W+X memory.
        let python = which("python3")?.path ?? "/usr/bin/python3"
        let probe = try run(python, ["-c", Self.denyWriteExecute, python, "-c",
                                     "import mmap; mmap.mmap(-1, 4096, prot=7)"])
        #expect(probe.status != 0 && probe.stderr.contains("Permission denied"),
                "PR_SET_MDWE refuses W+X mappings here: \(probe.output)")
        let daemon = ChildProcess()
        daemon.executableURL = URL(fileURLWithPath: python)
        daemon.arguments = ["-c", Self.denyWriteExecute] + (try serviceLauncher())
            + ["/usr/bin/watchfolder", "run", "--config", configPath]
        let log = scratch.appendingPathComponent("daemon.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        daemon.standardOutput = logHandle
        daemon.standardError = logHandle
        daemon.standardInput = FileHandle.nullDevice
        // As systemd would start it (Type=notify, WatchdogSec=): an abstract socket, which needs no file
        // permissions for the watchfolder user.
        let notify = try NotifySocket(abstract: true)
        daemon.environment = ProcessInfo.processInfo.environment.merging(
            ["NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "2000000"]) { $1 }
        try daemon.run()
        defer {
            if daemon.isRunning {
                kill(daemon.processIdentifier, SIGTERM)
                let deadline = Date().addingTimeInterval(40)
                while daemon.isRunning && Date() < deadline { usleep(50_000) }
                if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
            }
            daemon.waitUntilExit()
            try? logHandle.close()
        }

        Thread.sleep(forTimeInterval: 1)
        try upload(clip, scratch)

        let master = "/srv/watchfolder/outbox/installed-clip/master.m3u8"
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: master) && Date() < deadline && daemon.isRunning {
            Thread.sleep(forTimeInterval: 0.25)
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(FileManager.default.fileExists(atPath: master), "no package from the installed daemon; its log:\n\(output)")
        if FileManager.default.fileExists(atPath: master) {
            let playlist = try String(contentsOfFile: master, encoding: .utf8)
            #expect(playlist.hasPrefix("#EXTM3U"))
            #expect(FileInfo(path: master)?.owner == "watchfolder", "the package was written by the service user")
        }
        let inbox = "/srv/watchfolder/inbox/installed-clip.mp4", archived = "/srv/watchfolder/archive/installed-clip.mp4"
        while FileManager.default.fileExists(atPath: inbox) && Date() < deadline && daemon.isRunning {
            Thread.sleep(forTimeInterval: 0.25)
        }
        #expect(!FileManager.default.fileExists(atPath: inbox) && FileManager.default.fileExists(atPath: archived),
                "the service moves the upload out of the sticky inbox; its log:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        // READY=1 after start-up and watchdog pings: SystemdService in the daemon's ServiceGroup.
        let ready = notify.drain()
        #expect(ready.first?.hasPrefix("READY=1") == true, "\(ready)")
        #expect(ready.contains("WATCHDOG=1"), "\(ready)")
        kill(daemon.processIdentifier, SIGTERM)
        let stopDeadline = Date().addingTimeInterval(40)
        while daemon.isRunning && Date() < stopDeadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!daemon.isRunning, "the daemon stops on SIGTERM")
        #expect(notify.drain().last == "STOPPING=1")
        if !daemon.isRunning { #expect(daemon.terminationStatus == 0, "exit status \(daemon.terminationStatus)") }
    }
}
