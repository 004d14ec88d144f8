import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
@testable import WatchFolder

#if canImport(Glibc)
import Glibc
#endif

/// Missing, vanishing and unmounted inboxes; shutdown.
@Suite(.timeLimit(.minutes(1))) struct IntakeLifecycleTests {
    private func isPause(_ event: IntakeEvent) -> Bool { if case .paused = event { true } else { false } }
    private func isResume(_ event: IntakeEvent) -> Bool { if case .resumed = event { true } else { false } }

    @Test func vanishingInboxPausesAndResumes() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try box.write("kept.mp4")
        let away = box.root.appendingPathComponent("away")
        try await withIntake(box.config(settle: 0.2)) { log in
            #expect(log.rescans.first?.map(\.relativePath) == ["kept.mp4"])
            // Moved away: paused, and nothing suggests the files were deleted.
            try FileManager.default.moveItem(at: box.inbox, to: away)
            #expect(await log.wait(timeout: 5) { $0.all.contains(where: isPause) })
            try await idle(1.5)
            #expect(log.all.filter(isPause).count == 1)
            #expect(log.rescans.count == 1, "a rescan of a missing inbox was reported")
            // Back: resumed, then a rescan that lists the files again.
            try FileManager.default.moveItem(at: away, to: box.inbox)
            #expect(await log.wait(timeout: 5) { $0.rescans.count == 2 })
            let tail = Array(log.all.suffix(3))
            #expect(tail.count == 3 && isPause(tail[0]) && isResume(tail[1]))
            #expect(log.rescans.last?.map(\.relativePath) == ["kept.mp4"])
            // Watching again.
            try box.write("after.mp4")
            #expect(await log.wait(timeout: 5) { $0.settled.contains("after.mp4") })
            // Deleted outright, then created again.
            try FileManager.default.removeItem(at: box.inbox)
            #expect(await log.wait(timeout: 5) { $0.all.filter(isPause).count == 2 })
            try FileManager.default.createDirectory(at: box.inbox, withIntermediateDirectories: false)
            #expect(await log.wait(timeout: 5) { $0.rescans.count == 3 })
            #expect(log.rescans.last == [])
            #expect(log.all.filter(isResume).count == 2)
        }
    }

    @Test func missingInboxAtStartIsPausedUntilItAppears() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try FileManager.default.removeItem(at: box.inbox)
        try await withIntake(box.config(settle: 0.2), waitForStart: false) { log in
            #expect(await log.wait(timeout: 5) { $0.all.first.map(isPause) == true })
            if case .paused(let reason) = log.all.first { #expect(reason.contains(box.inbox.path)) }
            try box.write("late.mp4")
            #expect(await log.wait(timeout: 5) { $0.reported.contains("late.mp4") })
            #expect(log.all.contains(where: isResume))
        }
    }

    static let canMount: Bool = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-mount-probe-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        guard mount("tmpfs", dir.path, "tmpfs", 0, nil) == 0 else { return false }
        return umount(dir.path) == 0
    }()

    /// An unmounted inbox shows the empty folder underneath: that must pause, not look like "all deleted".
    @Test(.enabled(if: canMount, "needs CAP_SYS_ADMIN to mount a tmpfs"))
    func unmountedInboxPausesUntilRemounted() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        #expect(mount("tmpfs", box.inbox.path, "tmpfs", 0, nil) == 0)
        defer { _ = umount2(box.inbox.path, Int32(MNT_DETACH)) }
        try box.write("on-mount.mp4")
        try await withIntake(box.config(settle: 0.2)) { log in
            #expect(log.rescans.first?.map(\.relativePath) == ["on-mount.mp4"])
            #expect(umount2(box.inbox.path, Int32(MNT_DETACH)) == 0)
            #expect(await log.wait(timeout: 5) { $0.all.contains(where: isPause) })
            if case .paused(let reason) = log.all.last { #expect(reason.contains("unmounted")) }
            try await idle(1.5)
            #expect(log.rescans.count == 1, "the empty mount point was reported as the inbox")
            #expect(mount("tmpfs", box.inbox.path, "tmpfs", 0, nil) == 0)
            try box.write("remounted.mp4")
            #expect(await log.wait(timeout: 5) { $0.reported.contains("remounted.mp4") })
            #expect(log.all.contains(where: isResume))
        }
    }

    @Test func gracefulShutdownReturnsPromptly() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let log = EventLog()
        let intake = Intake(config: box.config(settle: 30), logger: intakeTestLogger) { log.append($0) }
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await intake.run() }
                #expect(await log.wait(timeout: 5) { !$0.rescans.isEmpty })
                try box.write("pending.mp4")
                try await idle(0.1)
                let start = ContinuousClock.now
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                #expect(ContinuousClock.now - start < .seconds(2))
            }
        }
        #expect(log.settled.isEmpty)
    }
}
