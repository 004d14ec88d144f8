import CFuzzSupport
import Dispatch
import Foundation
import Logging
public import Pipeline
import Synchronization

/// One input through the engine's untrusted-input path, as the daemon takes an upload: the bytes in an anonymous
/// file (a memfd) adopted with ``SourceFile/init(adopting:name:)``, ``Prober/probe(_:limits:)``, then, when the probe
/// accepts it, a transcode of its first ``options``.`stopAfterSeconds` (2 s) with one small rung into a temporary
/// folder that is removed afterwards. The fuzz target (Tests/Fuzz/PipelineFuzz) calls it for every input libFuzzer
/// makes; PipelineTests replays the committed regression inputs through it.
public enum UntrustedInput {
    /// What became of one input.
    public enum Outcome: Sendable, CustomStringConvertible {
        /// The probe refused it (most fuzzed inputs): the one-line reason.
        case refused(String)
        /// The probe accepted it and the transcode failed: the one-line reason.
        case failed(String)
        /// A package was made, this many seconds long.
        case packaged(Double)

        public var description: String {
            switch self {
            case .refused(let reason): "refused: \(reason)"
            case .failed(let reason): "failed: \(reason)"
            case .packaged(let seconds): "packaged: \(seconds) s"
            }
        }
    }

    /// One 72p rung, ultrafast, 1 s segments, one thumbnail, CPU only, the first 2 s; the default limits but for
    /// shorter deadlines (a hang is a finding well before libFuzzer's `-timeout`) and frames of at most 1920x1088
    /// (a fuzzed header claiming 8K frames makes each input cost seconds instead of milliseconds).
    public static let options = TranscodeOptions(
        ladder: [Rung(height: 72, videoBitrate: 100_000)], preset: "ultrafast", segmentSeconds: 1, thumbnails: 1,
        audioBitrate: 32_000, hardware: .cpu,
        limits: Limits(probeSeconds: 10, stallSeconds: 10, maxPixels: 1920 * 1088), stopAfterSeconds: 2)

    /// Runs `bytes` through the path; `name` is the file name the engine sees (its extension means nothing to it).
    /// Blocks the calling thread (never call it on the Swift cooperative pool).
    @discardableResult
    public static func run(_ bytes: UnsafeRawBufferPointer, name: String = "input.mp4",
                           options: TranscodeOptions = options) -> Outcome {
        let source: SourceFile
        do {
            source = try SourceFile(adopting: try memfd(holding: bytes), name: name)
        } catch {
            fatalError("fuzz harness: cannot make the input's memfd: \(error)")  // the harness, not the engine
        }
        do {
            _ = try Prober.probe(source, limits: options.limits)
        } catch {
            return .refused("\(error)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wf-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let request = TranscodeRequest(input: dir.appendingPathComponent(name), outputDirectory: dir.appendingPathComponent("pkg"),
                                       workDirectory: dir.appendingPathComponent("work"), options: options, source: source)
        let transcoder = Transcoder(logger: Logger(label: "wf.fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
        let outcome = Mutex<Outcome?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Outcome
            do {
                result = .packaged(try await transcoder.transcode(request).durationSeconds)
            } catch {
                result = .failed("\(error)")
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return outcome.withLock { $0! }
    }

    /// A memfd holding `bytes`, its offset at 0.
    static func memfd(holding bytes: UnsafeRawBufferPointer) throws -> Int32 {
        let fd = CFuzzSupport_memfd_create("wf-fuzz-input")
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            }
            offset += n
        }
        return fd
    }
}
