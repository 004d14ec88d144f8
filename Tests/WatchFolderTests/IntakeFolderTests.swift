import Foundation
import Testing
@testable import WatchFolder

/// Which files the intake takes: nested folders, ignored names, floods.
@Suite(.timeLimit(.minutes(2))) struct IntakeFolderTests {
    @Test func nestedDirectoriesCreatedAfterStartAreWatched() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 0.3)) { log in
            // Created in place, a file written at once (it may land before the new folder's watch exists).
            try box.write("a/b/c/first.mp4")
            // A whole tree built elsewhere and moved in: its files all landed before any watch.
            try box.write("tree/x/moved.mp4", in: box.outside)
            try box.write("tree/top.mkv", in: box.outside)
            try FileManager.default.moveItem(at: box.outside.appendingPathComponent("tree"),
                                             to: box.inbox.appendingPathComponent("a/tree"))
            #expect(await log.wait(timeout: 5) { $0.reported.count == 3 })
            // Files written later into the new folders come through their watches.
            try await idle(0.2)
            try box.write("a/b/c/later.mov")
            try box.write("a/tree/x/later.mp4")
            #expect(await log.wait(timeout: 5) { $0.reported.count == 5 })
            #expect(log.reported == ["a/b/c/first.mp4", "a/tree/x/moved.mp4", "a/tree/top.mkv",
                                     "a/b/c/later.mov", "a/tree/x/later.mp4"])
            // A folder renamed inside the inbox: new files under its new name, nothing under the old one.
            try FileManager.default.moveItem(at: box.inbox.appendingPathComponent("a/tree"),
                                             to: box.inbox.appendingPathComponent("renamed"))
            try await idle(0.1)
            try box.write("renamed/x/after.mp4")
            #expect(await log.wait(timeout: 5) { $0.reported.contains("renamed/x/after.mp4") })
            #expect(!log.reported.contains { $0.hasPrefix("a/tree/x/after") })
        }
    }

    /// An inbox configured through a symlink (`/srv/inbox -> /data/inbox`) is watched where it points.
    @Test func inboxThroughASymlinkIsWatched() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let link = box.root.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: box.inbox)
        var config = box.config(settle: 0.2)
        config.path = link
        try box.write("before.mp4")
        try await withIntake(config) { log in
            #expect(log.rescans.first?.map(\.relativePath) == ["before.mp4"])
            try box.write("sub/after.mp4")
            #expect(await log.wait(timeout: 5) { $0.settled == ["sub/after.mp4"] })
            try await idle(1.2)  // a health check passed: the symlink is not taken for a replaced inbox
            #expect(!log.all.contains { if case .paused = $0 { true } else { false } })
            #expect(log.rescans.count == 1)
        }
    }

    @Test func nonRecursiveInboxIgnoresSubfolders() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        try await withIntake(box.config(settle: 0.2, recursive: false)) { log in
            try box.write("sub/deep.mp4")
            try box.write("top.mp4")
            #expect(await log.wait(timeout: 5) { $0.settled.contains("top.mp4") })
            try await idle(0.4)
            #expect(log.reported == ["top.mp4"])
        }
    }

    @Test func ignoredNamesAreLeftUntouched() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let ignored = [".DS_Store", "Thumbs.db", "notes.txt", "x.filepart", "clip.mp4.part", "~$clip.mp4",
                       ".hidden/inside.mp4", "noextension", ".failed/old.mp4"]
        try await withIntake(box.config(settle: 0.2)) { log in
            for name in ignored { try box.write(name, bytes: 123) }
            try box.write("Real.MP4", bytes: 10)
            #expect(await log.wait(timeout: 5) { $0.settled.contains("Real.MP4") })
            try await idle(0.5)
            #expect(log.reported == ["Real.MP4"])
        }
        for name in ignored {
            let url = box.inbox.appendingPathComponent(name)
            #expect((try? Data(contentsOf: url))?.count == 123, "\(name) was moved or changed")
        }
        // The start-up rescan skips them too.
        #expect(try await Intake.rescan(config: box.config(settle: 0)).map(\.relativePath) == ["Real.MP4"])
    }

    @Test(arguments: [
        ("clip.mp4", false), ("CLIP.MOV", false), ("dir/clip.mkv", false), ("a/b/c.webm", false),
        (".DS_Store", true), ("Thumbs.db", true), ("notes.txt", true), ("x.filepart", true), ("x.mp4.filepart", true),
        ("x.mp4.part", true), ("x.tmp", true), ("~$doc.mp4", true), (".hidden/clip.mp4", true), ("clip", true),
        (".clip.mp4.AbC123", true), ("archive/clip.mp4", true), (".failed/clip.mp4", true),
    ])
    func isIgnoredFollowsConfig(path: String, expected: Bool) throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        var config = box.config()
        config.archivePath = box.inbox.appendingPathComponent("archive")
        #expect(Intake.isIgnored(path, config: config) == expected)
    }

    @Test func nonRecursiveConfigIgnoresNestedPaths() throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        #expect(Intake.isIgnored("dir/clip.mp4", config: box.config(recursive: false)))
        #expect(!Intake.isIgnored("clip.mp4", config: box.config(recursive: false)))
    }

    @Test func floodOf2000FilesIsReportedExactlyOnce() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let count = 2000
        try await withIntake(box.config(settle: 0.2)) { log in
            // Folders appear during the flood too: each is watched and scanned once, files reported once.
            for i in 0..<count {
                if i % 100 == 0 {
                    try FileManager.default.createDirectory(at: box.inbox.appendingPathComponent("d\(i / 100)"),
                                                            withIntermediateDirectories: false)
                }
                box.writeQuickly("d\(i / 100)/f\(i).mp4")
            }
            #expect(await log.wait(timeout: 30) { $0.reported.count == count })
            try await idle(0.5)
            #expect(log.reported.count == count)
            let settled = log.settled
            #expect(Set(settled).count == settled.count, "a file was reported settled twice")
        }
    }
}
