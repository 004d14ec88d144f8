import Foundation
import TestSupport
import Testing

/// The .deb as a Debian reviewer and a systemd reviewer see it, without installing it.
@Suite("deb: contents, lintian, systemd unit")
struct DebPackageTests {
    @Test("Depends come from dpkg-shlibdeps (libav*, libsqlite3, libcurl), no Swift runtime, and the files are there")
    func controlAndContents() async throws {
        try await offPool { try Self.controlAndContentsBody() }
    }

    static func controlAndContentsBody() throws {
        let deb = try builtDeb()
        let version = try sourceVersion()
        #expect(deb.lastPathComponent == "watchfolder_\(version)_amd64.deb")
        #expect(try runChecked("dpkg-deb", ["-f", deb.path, "Version"]).stdout.trimmed == version)
        // Every shared library the binary needs is there through its Debian package, as dpkg-shlibdeps computes it.
        let depends = try runChecked("dpkg-deb", ["-f", deb.path, "Depends"]).stdout
        let root = try extract(deb)
        defer { try? FileManager.default.removeItem(at: root) }
        let needed = try runChecked("readelf", ["-d", "-W", root.appendingPathComponent("usr/bin/watchfolder").path])
            .stdout.matches(of: /\(NEEDED\)\s+Shared library: \[([^\]]+)\]/).map { String($0.1) }
        for library in ["libavformat.so", "libsqlite3.so", "libcurl.so"] {
            #expect(needed.contains { $0.hasPrefix(library) }, "the binary links \(library): \(needed)")
        }
        for library in needed {
            let owners = try runChecked("dpkg-query", ["-S", "*/\(library)"]).stdout
                .split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
            #expect(owners.contains { depends.contains($0) }, "Depends lacks \(owners) for \(library): \(depends)")
        }
        #expect(depends.contains("adduser"))
        #expect(!depends.contains("swift"), "the Swift runtime is linked statically: \(depends)")

        let listing = try runChecked("dpkg-deb", ["-c", deb.path]).stdout
        for path in ["./usr/bin/watchfolder", "./etc/watchfolder/config.toml", "./etc/sysctl.d/60-watchfolder.conf",
                     "./lib/systemd/system/watchfolder.service", "./usr/share/man/man1/watchfolder.1.gz",
                     "./usr/share/doc/watchfolder/copyright", "./usr/share/doc/watchfolder/changelog.gz",
                     "./usr/share/doc/watchfolder/deb.md.gz",
                     "./usr/share/doc/watchfolder/examples/config.example.toml"] {
            #expect(listing.contains(" \(path)\n"), "the package lacks \(path)")
        }
        #expect(listing.contains(" ./usr/share/doc/watchfolder/README.md"), "the README (compressed when large)")
        #expect(!listing.contains("./srv"), "media folders are made by postinst, not shipped (Debian policy)")
        #expect(!listing.contains("dbgsym"))

        let control = FileManager.default.temporaryDirectory.appendingPathComponent("wf-ctrl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: control) }
        try runChecked("dpkg-deb", ["--control", deb.path, control.path])
        let conffiles = try String(contentsOf: control.appendingPathComponent("conffiles"), encoding: .utf8)
        #expect(conffiles.contains("/etc/watchfolder/config.toml\n"))
        #expect(conffiles.contains("/etc/sysctl.d/60-watchfolder.conf\n"))
    }

    @Test("the binary is stripped, without RUNPATH, and needs no Swift toolchain; the man page comes from --help")
    func binaryAndManPage() async throws {
        try await offPool { try Self.binaryAndManPageBody() }
    }

    static func binaryAndManPageBody() throws {
        let root = try extract(try builtDeb())
        defer { try? FileManager.default.removeItem(at: root) }
        let binary = root.appendingPathComponent("usr/bin/watchfolder").path
        let sections = try runChecked("readelf", ["-S", "-W", binary]).stdout
        #expect(!sections.contains(".symtab"), "stripped")
        #expect(!sections.contains(".debug_info"), "stripped")
        let dynamic = try runChecked("readelf", ["-d", "-W", binary]).stdout
        #expect(!dynamic.contains("RUNPATH") && !dynamic.contains("RPATH"), "\(dynamic)")
        #expect(!dynamic.contains("libswift") && !dynamic.contains("libFoundation"), "\(dynamic)")
        #expect(dynamic.contains("libavformat") && dynamic.contains("libsqlite3") && dynamic.contains("libcurl"))
        let version = try runChecked(binary, ["--version"]).stdout.trimmed
        #expect(version == (try sourceVersion()))

        let man = try runChecked("man", ["-l", "-P", "cat",
                                         root.appendingPathComponent("usr/share/man/man1/watchfolder.1.gz").path],
                                 environment: ["MANWIDTH": "120", "LANG": "C.UTF-8"]).stdout
        for text in ["watchfolder - turn videos dropped into a folder into HLS packages", "SUBCOMMANDS",
                     "watchfolder run", "watchfolder check-config", "Exit codes", "/etc/watchfolder/config.toml"] {
            #expect(man.contains(text), "man page lacks '\(text)'")
        }
    }

    @Test("lintian: no errors and no warnings (each remaining tag is overridden with a reason)")
    func lintian() async throws {
        try await offPool { try Self.lintianBody() }
    }

    static func lintianBody() throws {
        let deb = try builtDeb()
        let result = try run("lintian", ["--fail-on", "error,warning", "--no-tag-display-limit", deb.path],
                             environment: ["LANG": "C.UTF-8"], timeout: 600)
        #expect(result.status == 0, "\(result.output)")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("E:") || $0.hasPrefix("W:") }
        #expect(lines.isEmpty, "\(lines.joined(separator: "\n"))")
    }

    @Test("systemd-analyze security --offline rates the unit OK (exposure <= 4.0); the contract's directives are set")
    func unitHardening() async throws {
        try await offPool { try Self.unitHardeningBody() }
    }

    static func unitHardeningBody() throws {
        let root = try extract(try builtDeb())
        defer { try? FileManager.default.removeItem(at: root) }
        let unit = root.appendingPathComponent("lib/systemd/system/watchfolder.service")
        let result = try run("systemd-analyze", ["security", "--offline=true", "--no-pager", unit.path],
                             environment: ["SYSTEMD_COLORS": "0"])
        #expect(result.status == 0, "\(result.output)")
        let match = result.output.firstMatch(of: /Overall exposure level for watchfolder\.service: ([0-9.]+) (\w+)/)
        #expect(match != nil, "\(result.output)")
        if let match {
            let exposure = Double(match.1) ?? 99
            #expect(exposure <= 4.0, "exposure \(exposure) \(match.2)")
            #expect(["OK", "SAFE"].contains(String(match.2)))
        }
        // systemd-analyze verify on the unit as installed is in the install test (it needs the binary in place).
        let text = try String(contentsOf: unit, encoding: .utf8)
        for line in ["Type=notify", "NotifyAccess=main", "WatchdogSec=", "User=watchfolder",
                     "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "ProtectSystem=strict",
                     "ReadWritePaths=/srv/watchfolder /var/lib/watchfolder", "ProtectHome=yes", "PrivateTmp=yes",
                     "NoNewPrivileges=yes", "CapabilityBoundingSet=CAP_FOWNER\n", "AmbientCapabilities=CAP_FOWNER\n",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "StateDirectoryMode=0700\n",
                     "MemoryHigh=", "MemoryMax=", "TasksMax=", "LimitNOFILE=8192\n",
                     "SystemCallFilter=@system-service", "LockPersonality=yes", "MemoryDenyWriteExecute=yes",
                     "DeviceAllow=char-drm rw", "DeviceAllow=char-nvidia-frontend rw",
                     "SupplementaryGroups=video render watchfolder-upload\n", "WantedBy=multi-user.target",
                     "ExecStart=/usr/bin/watchfolder run --config /etc/watchfolder/config.toml"] {
            #expect(text.contains(line), "the unit lacks \(line)")
        }
    }
}

/// Unpacks a .deb's files into a fresh temporary folder (removed by the caller).
func extract(_ deb: URL) throws -> URL {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("wf-deb-\(UUID().uuidString)")
    try runChecked("dpkg-deb", ["-x", deb.path, root.path])
    return root
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
