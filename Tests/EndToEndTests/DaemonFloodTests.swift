import Foundation
import TestSupport
import Testing

@Suite struct DaemonFloodTests {
    /// 2,000 files dropped at once (tiny, not real video: each becomes a job that fails fast): every one recorded,
    /// none twice, the daemon still up.
    @Test func aFloodOfTwoThousandFilesIsRecordedOnceEach() async throws {
        try await withTemporaryDirectory { dir in
            let f = try DaemonFolders(root: dir, settle: 0.3, transcode: "max_attempts = 1")
            let daemon = try await DaemonProcess.start(config: f.config)
            let staging = dir.appendingPathComponent("staging")
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            for i in 0..<2_000 { try Data("not a video \(i)".utf8).write(to: staging.appendingPathComponent("f\(i).mp4")) }
            // Moved in as fast as the file system allows (MOVED_TO), half into a folder created on the way.
            try FileManager.default.createDirectory(at: f.inbox.appendingPathComponent("batch"), withIntermediateDirectories: true)
            for i in 0..<2_000 {
                let target = i % 2 == 0 ? f.inbox.appendingPathComponent("f\(i).mp4")
                                        : f.inbox.appendingPathComponent("batch/f\(i).mp4")
                #expect(rename(staging.appendingPathComponent("f\(i).mp4").path, target.path) == 0)
            }
            try await waitUntil("all 2,000 files are recorded", timeout: 120) {
                try await sql(f.database, "SELECT COUNT(*) FROM job") == [["2000"]]
            }
            try await Task.sleep(for: .seconds(1))  // late duplicates would show up now
            #expect(try await sql(f.database, "SELECT COUNT(*), COUNT(DISTINCT source_path) FROM job") == [["2000", "2000"]])
            #expect(try await sql(f.database, "SELECT COUNT(*) FROM event WHERE type = 'job.queued'") == [["2000"]])
            #expect(daemon.isRunning)
            #expect(await daemon.stop() == 0)
        }
    }
}
