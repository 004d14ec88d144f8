import Logging

/// One text subtitle stream of the source, read in the pass: each packet decoded into cues on the package's timeline
/// (the container's start removed, as for the video), at most ``SubtitleCue/Bounds/maxCues``.
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class SubtitlePath {
    let streamIndex: Int
    private let decoder: SubtitleDecoder
    private let timeBase: Rational
    /// The container's start time in milliseconds.
    private let originMilliseconds: Int64
    private let logger: Logger
    private(set) var cues: [SubtitleCue] = []
    private(set) var decodeErrors = 0
    /// Cues left out past the cap.
    private(set) var dropped = 0

    init(input: InputFile, streamIndex: Int, origin: Int64, logger: Logger) throws(MediaError) {
        self.streamIndex = streamIndex
        decoder = try SubtitleDecoder(for: input.stream(streamIndex))
        timeBase = input.timeBase(of: streamIndex)
        originMilliseconds = Rational.rescale(origin, from: InputFile.containerTimeBase, to: Self.milliseconds)
        self.logger = logger
    }

    private static let milliseconds = Rational(1, 1000)

    /// Decodes one packet of the stream into cues; a packet the decoder refuses is counted and skipped.
    func decode(_ packet: Packet) {
        guard let pts = packet.timestamp else { return }
        let decoded: SubtitleDecoder.Decoded?
        do { decoded = try decoder.decode(packet) } catch {
            decodeErrors += 1
            return
        }
        guard let decoded else { return }
        let at = Rational.rescale(pts, from: timeBase, to: Self.milliseconds) - originMilliseconds
        let duration = packet.duration > 0 ? Rational.rescale(packet.duration, from: timeBase, to: Self.milliseconds) : 0
        let start = at + decoded.startMilliseconds
        let end = decoded.endMilliseconds.map { at + $0 } ?? (duration > 0 ? at + duration : start + Self.unknownDuration)
        for event in decoded.events {
            let text = SubtitleText.fromASS(event)
            guard !text.isEmpty else { continue }
            guard cues.count < SubtitleCue.Bounds.maxCues else {
                if dropped == 0 {
                    logger.warning("subtitle stream has more cues than the cap; the rest are left out", metadata: [
                        "wf.stream": "\(streamIndex)", "wf.cues.max": "\(SubtitleCue.Bounds.maxCues)"])
                }
                dropped += 1
                continue
            }
            cues.append(SubtitleCue(start: start, end: end, text: text))
        }
    }

    /// How long a cue shows when neither the decoder nor the packet says.
    private static let unknownDuration: Int64 = 5_000
}
