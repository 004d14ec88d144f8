import Foundation

/// Why a probe or transcode failed. `description` is one line naming the file and what is wrong with it,
/// e.g. `broken.mp4: no video stream found (moov atom missing?)`.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure (extensible: compare with the static members).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case badInput, unreadableInput, missingInput, refusedInput, changedInput, noVideo, media, duration, cancelled, hardware,
                 output, stalled, deadline, limit, badSidecar
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file is not a usable video (random bytes, empty, truncated beyond repair).
        public static let badInput = Code(.badInput)
        /// The file cannot be opened or read at all.
        public static let unreadableInput = Code(.unreadableInput)
        /// The file does not exist (any more).
        public static let missingInput = Code(.missingInput)
        /// The file was not read: not a regular file, a symbolic link on its path, a playlist or manifest, a
        /// container that is not a plain media file.
        public static let refusedInput = Code(.refusedInput)
        /// The file is not the one that was recorded (replaced or rewritten since), or changed while it was read.
        public static let changedInput = Code(.changedInput)
        /// Decoding made no progress for `stall_seconds`.
        public static let stalled = Code(.stalled)
        /// The probe did not finish within `probe_seconds`.
        public static let deadline = Code(.deadline)
        /// A bound of ``Limits`` was passed (duration, pixels, streams, output bytes).
        public static let limit = Code(.limit)
        /// The file has no decodable video stream (audio-only included).
        public static let noVideo = Code(.noVideo)
        /// A libav call failed while transcoding (`call` and `libavMessage` say which and why).
        public static let media = Code(.media)
        /// The output came out shorter than the source by more than 0.5%.
        public static let duration = Code(.duration)
        /// The transcode was cancelled.
        public static let cancelled = Code(.cancelled)
        /// A named GPU encoder is not available (a configuration error).
        public static let hardware = Code(.hardware)
        /// A subtitle sidecar does not parse, or is too large: no attempt can succeed until it is replaced.
        public static let badSidecar = Code(.badSidecar)
        /// The package could not be written or moved into place.
        public static let output = Code(.output)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The source file name (or the encoder name for ``Code/hardware``).
    public var file: String
    /// What is wrong, in words.
    public var reason: String
    /// The libav call that failed, if any.
    public var call: String?
    /// Which part of the engine failed: `demux`, `decode`, `filter`, `encode`, `mux`...
    public var stage: String?
    public var fileID: String
    public var line: Int

    public init(_ code: Code, file: String, _ reason: String, call: String? = nil, stage: String? = nil,
                fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.file = file
        self.reason = reason
        self.call = call
        self.stage = stage
        self.fileID = fileID
        self.line = line
    }

    /// One line: `FILE: reason` (plus the failing libav call for engine failures).
    public var description: String {
        var text = "\(file): \(reason)"
        if let call, code == .media { text += " (\(stage.map { "\($0): " } ?? "")\(call))" }
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}
