import Foundation
import Glibc
import ServiceLifecycleTestKit
import TestSupport
import Testing
import WatchFolder

@Suite("systemd notify protocol")
struct SystemdNotifierTests {
    @Test("READY=1, WATCHDOG=1, RELOADING=1, STOPPING=1, STATUS reach the socket (a path, and @abstract)", arguments: [false, true])
    func statesReachTheSocket(abstract: Bool) throws {
        let socket = try NotifySocket(abstract: abstract)
        let env = ["NOTIFY_SOCKET": socket.name]
        #expect(try SystemdNotifier.ready(status: "watching /srv/watchfolder/inbox", environment: env))
        #expect(socket.receive() == "READY=1\nSTATUS=watching /srv/watchfolder/inbox")
        #expect(try SystemdNotifier.ping(environment: env))
        #expect(socket.receive() == "WATCHDOG=1")
        #expect(try SystemdNotifier.reloading(environment: env))
        let reloading = socket.receive() ?? ""
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), "\(reloading)")
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(reloading.split(separator: "=").last ?? "") ?? 0
        #expect(usec > 0 && usec <= UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000, "\(reloading)")
        #expect(try SystemdNotifier.stopping(environment: env))
        #expect(socket.receive() == "STOPPING=1")
    }

    @Test("outside systemd (no NOTIFY_SOCKET) nothing is sent and nothing fails")
    func noSocketIsANoOp() throws {
        #expect(try SystemdNotifier.ready(environment: [:]) == false)
        #expect(try SystemdNotifier.ping(environment: ["NOTIFY_SOCKET": ""]) == false)
    }

    @Test("a socket nobody listens on is an error naming sendto and errno text")
    func missingSocketThrows() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wf-nobody-\(UUID()).sock").path
        #expect {
            try SystemdNotifier.ready(environment: ["NOTIFY_SOCKET": path])
        } throws: { error in
            let e = error as? SystemdError
            return e?.call == "sendto" && e?.errno == ENOENT
                && "\(error)".contains("No such file or directory") && "\(error)".contains(path)
        }
        #expect(throws: SystemdError.self) {
            try SystemdNotifier.ready(environment: ["NOTIFY_SOCKET": "relative.sock"])
        }
    }

    @Test("WATCHDOG_USEC gives the interval; WATCHDOG_PID of another process turns it off")
    func watchdogInterval() {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"]) == .seconds(30))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "250000",
                                                               "WATCHDOG_PID": "\(getpid())"]) == .milliseconds(250))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "250000",
                                                               "WATCHDOG_PID": "\(getpid() + 1)"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "soon"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
    }

    @Test("the service sends READY=1, pings at half WATCHDOG_USEC, and STOPPING=1 on graceful shutdown")
    func servicePingsAndStops() async throws {
        let socket = try NotifySocket(abstract: true)
        let env = ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "200000"]  // 0.2 s: a ping every 0.1 s
        let service = SystemdService(status: "watching", environment: env)
        let started = ContinuousClock.now
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                try await Task.sleep(for: .milliseconds(650))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(ContinuousClock.now - started < .seconds(3), "the service stops promptly on graceful shutdown")
        let messages = socket.drain()
        #expect(messages.first == "READY=1\nSTATUS=watching")
        #expect(messages.last == "STOPPING=1")
        let pings = messages.dropFirst().dropLast()
        #expect(pings.allSatisfy { $0 == "WATCHDOG=1" }, "\(messages)")
        #expect(pings.count >= 3 && pings.count <= 10, "\(pings.count) pings in 0.65 s at a 0.1 s period")
    }

    @Test("without a watchdog the service sends READY=1 and STOPPING=1 and nothing between")
    func serviceWithoutWatchdog() async throws {
        let socket = try NotifySocket(abstract: false)
        let service = SystemdService(environment: ["NOTIFY_SOCKET": socket.name])
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                try await Task.sleep(for: .milliseconds(300))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(socket.drain() == ["READY=1", "STOPPING=1"])
    }

    @Test("the daemon sends RELOADING=1 with MONOTONIC_USEC on SIGHUP, then READY=1")
    func daemonReloads() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.toml")
        try """
            [inbox]
            path = "inbox"
            failed_path = "failed"
            on_success = "keep"

            [state]
            path = "state"

            [outbox]
            path = "outbox"

            [http]
            listen = "127.0.0.1:0"
            """.write(to: config, atomically: true, encoding: .utf8)
        let socket = try NotifySocket(abstract: true)
        let daemon = ChildProcess()
        daemon.executableURL = watchfolderBinary
        daemon.arguments = ["run", "--config", config.path]
        daemon.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": socket.name]) { $1 }
        daemon.standardInput = FileHandle.nullDevice
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            daemon.signal(SIGKILL)
            daemon.waitUntilExit()
        }
        func next(_ prefix: String) async throws -> String? {
            for _ in 0..<12 {  // each receive waits up to 5 s
                guard let message = try await offPool({ socket.receive() }) else {
                    if daemon.isRunning { continue } else { return nil }
                }
                if message.hasPrefix(prefix) { return message }
            }
            return nil
        }
        #expect(try await next("READY=1") != nil)
        kill(daemon.processIdentifier, SIGHUP)
        let reloading = try await next("RELOADING=1")
        #expect(reloading?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(reloading ?? "nothing")")
        #expect(try await next("READY=1") != nil)
    }

    @Test("outside systemd (no NOTIFY_SOCKET) the service waits for shutdown and returns promptly")
    func serviceOutsideSystemd() async throws {
        let service = SystemdService(environment: ["WATCHDOG_USEC": "100000"])
        let started = ContinuousClock.now
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                try await Task.sleep(for: .milliseconds(200))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(ContinuousClock.now - started < .seconds(3))
    }
}
