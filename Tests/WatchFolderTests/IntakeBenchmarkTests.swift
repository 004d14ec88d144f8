import Foundation
import Synchronization
import Testing
@testable import WatchFolder

/// Intake figures, run by `bench/intake.sh` (`WATCHFOLDER_BENCH=1 swift test --filter IntakeBenchmark`).
///
/// Latency: from a file's last close to its `.settled` event with `settle_seconds = 0`, over 1,000 files.
/// Flood: 10,000 files written as fast as possible; time until all are reported, peak RSS, files lost.
@Suite(.serialized, .timeLimit(.minutes(3)), .enabled(if: ProcessInfo.processInfo.environment["WATCHFOLDER_BENCH"] != nil))
struct IntakeBenchmark {
    /// Arrival times (CLOCK_MONOTONIC ns) of `.settled` events by path.
    final class Arrivals: Sendable {
        let times = Mutex<[String: UInt64]>([:])
        func record(_ event: IntakeEvent) {
            let now = monotonicNanoseconds()
            let paths: [String]
            switch event {
            case .settled(let file): paths = [file.relativePath]
            case .rescanned(let files): paths = files.map(\.relativePath)
            default: paths = []
            }
            times.withLock { times in for path in paths where times[path] == nil { times[path] = now } }
        }
        var count: Int { times.withLock { $0.count } }
        var snapshot: [String: UInt64] { times.withLock { $0 } }
    }

    static func run(_ config: Config.Inbox, arrivals: Arrivals, _ body: () async throws -> Void) async throws {
        let intake = Intake(config: config, logger: intakeTestLogger) { arrivals.record($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await intake.run() }
            try await idle(0.3)
            try await body()
            group.cancelAll()
        }
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    /// `VmHWM` (peak) or `VmRSS` of this test process, in MB.
    static func rssMegabytes(_ key: String = "VmHWM:") -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(key) } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    static func writeFile(_ path: String) {
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        var bytes = [UInt8](repeating: 0x61, count: 256)
        _ = write(fd, &bytes, bytes.count)
        close(fd)
    }

    @Test func latencyFromCloseToSettled() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let arrivals = Arrivals()
        var closed: [String: UInt64] = [:]
        try await Self.run(box.config(settle: 0), arrivals: arrivals) {
            for i in 0..<1000 {
                let name = "l\(i).mp4"
                Self.writeFile(box.inbox.appendingPathComponent(name).path)
                closed[name] = monotonicNanoseconds()
                try await idle(0.002)
            }
            _ = await EventLog().wait(timeout: 30) { _ in arrivals.count == 1000 }
        }
        let seen = arrivals.snapshot
        let latencies = closed.compactMap { name, t in seen[name].map { Double(Int64($0) - Int64(t)) / 1e6 } }.sorted()
        #expect(latencies.count == 1000)
        let line = String(format: "intake latency close→settled (settle 0, 1000 files): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                          Self.percentile(latencies, 0.5), Self.percentile(latencies, 0.99), latencies.last ?? 0)
        print("BENCH \(line)")
        #expect(Self.percentile(latencies, 0.99) < 50)
    }

    @Test func floodOf10000Files() async throws {
        let box = try IntakeSandbox()
        defer { box.remove() }
        let arrivals = Arrivals()
        let count = 10_000
        var elapsed = 0.0
        var writing = 0.0
        let rssBefore = Self.rssMegabytes("VmRSS:")
        try await Self.run(box.config(settle: 0), arrivals: arrivals) {
            let start = monotonicNanoseconds()
            for i in 0..<count { Self.writeFile(box.inbox.appendingPathComponent("f\(i).mp4").path) }
            writing = Double(monotonicNanoseconds() - start) / 1e9
            _ = await EventLog().wait(timeout: 60) { _ in arrivals.count == count }
            elapsed = Double((arrivals.snapshot.values.max() ?? start) - start) / 1e9
        }
        let lost = count - arrivals.count
        print(String(format: "BENCH intake flood 10000 files: all recorded %.2f s after the first write (writing them took %.2f s; lag after the last write %.3f s), lost %d, peak RSS %.1f MB (test process; %.1f MB before the flood)",
                     elapsed, writing, elapsed - writing, lost, Self.rssMegabytes(), rssBefore))
        #expect(lost == 0)
        // The disk may be slower than the target on a loaded machine; the intake must keep up with it.
        #expect(elapsed < 10 || elapsed - writing < 1)
    }
}
