import CAV
import Foundation

/// Fills a ``MediaInfo`` from an opened ``InputFile`` (the only place that turns its streams into probe facts).
enum ProbeReader {
    /// Reads what the engine needs to know from an opened `input`, and refuses what it will not transcode
    /// (no video, frames over `max_pixels`, a header duration over `max_duration_seconds`).
    static func read(_ input: InputFile, source: SourceFile, limits: Limits) throws(PipelineError) -> MediaInfo {
        let name = source.name
        var streams: [MediaInfo.Stream] = []
        for i in 0..<input.streamCount {
            let st = input.stream(i)
            streams.append(.init(index: i, type: mediaTypeName(st.type), codec: st.codecName))
        }
        guard let videoIndex = pickVideo(input) else {
            let hasAudio = streams.contains { $0.type == "audio" }
            if hasAudio {
                throw PipelineError(.noVideo, file: name, "no video stream found (audio-only files are not supported)")
            }
            throw PipelineError(.noVideo, file: name, streams.isEmpty
                ? "no video stream found (not a video file, or its index is missing)"
                : "no decodable video stream found (streams: \(streams.map { "\($0.type) \($0.codec)" }.joined(separator: ", ")))")
        }
        let video = videoInfo(input, index: videoIndex)
        if video.width * video.height > limits.maxPixels {
            throw PipelineError(.limit, file: name,
                                "refused: frames of \(video.width)x\(video.height) pixels are larger than max_pixels (\(limits.maxPixels))")
        }
        let formatDuration = input.durationSeconds
        var v = video
        if v.durationSeconds <= 0 { v.durationSeconds = formatDuration }
        var info = MediaInfo(
            file: name,
            container: input.formatName,
            durationSeconds: formatDuration > 0 ? formatDuration : v.durationSeconds,
            bitRate: input.bitRate > 0 ? Int(input.bitRate) : nil,
            sizeBytes: source.status.size, streams: streams, video: v, audio: nil)
        // A duration estimated from timestamps includes their jumps (closed while transcoding): only a duration the
        // container declares is held against the bound here; the output is held against it as it is made.
        if !input.durationFromTimestamps, info.durationSeconds > limits.maxDurationSeconds {
            throw PipelineError(.limit, file: name, String(
                format: "refused: it lasts %.0f s, longer than max_duration_seconds (%.0f)", info.durationSeconds,
                limits.maxDurationSeconds))
        }
        if let a = input.bestStream(.audio), input.stream(a).hasDecoder {
            info.audio = audioInfo(input, index: a)
        }
        info.audioStreams = (0..<input.streamCount).filter {
            let st = input.stream($0)
            return st.type == .audio && st.hasDecoder
        }.map { audioInfo(input, index: $0) }
        let subtitles = (0..<input.streamCount).filter {
            let st = input.stream($0)
            return st.type == .subtitle && st.hasDecoder && MediaInfo.Subtitle.textCodecs.contains(st.codecName)
        }.map { i in
            let st = input.stream(i)
            return MediaInfo.Subtitle(streamIndex: i, codec: st.codecName, languageTag: st.tag("language").map { String($0.prefix(64)) },
                                      title: st.tag("title").map { String($0.prefix(200)) }, isDefault: st.isDefault)
        }
        info.subtitleStreams = subtitles.isEmpty ? nil : subtitles
        scanFrameTiming(input, info: &info)
        return info
    }

    /// Maps an open failure onto a reason a person understands.
    static func openFailure(_ error: MediaError, source: SourceFile) -> PipelineError {
        let name = source.name
        switch error.stage {
        case "refuse": return PipelineError(.refusedInput, file: name, "not a supported media file (\(error.message))")
        case "limit": return PipelineError(.limit, file: name, "refused: \(error.message)")
        default: break
        }
        if error.isInvalidData || error.hasErrno(EIO) {
            if looksLikeISOBMFF(source) {
                return PipelineError(.badInput, file: name, "no video stream found (moov atom missing?)")
            }
            return PipelineError(.badInput, file: name, "not a video file: no container format recognised (\(error.message))")
        }
        if error.isOutOfMemory {
            return PipelineError(.media, file: name, "out of memory while opening the file (\(error.call))")
        }
        if error.hasErrno(ENOENT) || error.hasErrno(EACCES) {
            return PipelineError(.unreadableInput, file: name, "cannot open the file (\(error.message))")
        }
        return PipelineError(.badInput, file: name, "cannot read the file (\(error.call): \(error.message))")
    }

    /// True when the file starts like an MP4/MOV (`ftyp`, `wide`, `mdat`, `free` box): a truncated recording.
    static func looksLikeISOBMFF(_ source: SourceFile) -> Bool {
        guard source.isSeekable else { return false }
        var head = [UInt8](repeating: 0, count: 8)
        guard pread(source.descriptor, &head, 8, 0) == 8 else { return false }
        return ["ftyp", "wide", "mdat", "free", "skip", "moov"].contains(String(decoding: head[4..<8], as: UTF8.self))
    }

    /// The first real video stream (not cover art) that has a decoder and a size.
    static func pickVideo(_ input: InputFile) -> Int? {
        var candidates: [Int] = []
        if let best = input.bestStream(.video) { candidates.append(best) }
        candidates += (0..<input.streamCount).filter { !candidates.contains($0) }
        for i in candidates {
            let st = input.stream(i)
            guard st.type == .video, !st.isAttachedPicture, st.width > 0, st.height > 0, st.hasDecoder else { continue }
            return i
        }
        return nil
    }

    static func mediaTypeName(_ t: MediaType) -> String {
        switch t {
        case .video: "video"
        case .audio: "audio"
        case .subtitle: "subtitle"
        case .attachment: "attachment"
        case .data: "data"
        }
    }

    static func videoInfo(_ input: InputFile, index: Int) -> MediaInfo.Video {
        let st = input.stream(index)
        let fmt = st.pixelFormat
        let layout = LibAV.layout(of: fmt)
        let depth = layout?.depth ?? 8
        let chroma: String = layout.map { l in
            switch l.chromaShift {
            case (1, 1): "4:2:0"
            case (1, 0): "4:2:2"
            case (0, 0): "4:4:4"
            case (2, 0): "4:1:1"
            default: "other"
            }
        } ?? "unknown"
        var sar = st.streamSampleAspectRatio
        if sar.num <= 0 || sar.den <= 0 { sar = st.codecSampleAspectRatio }
        if sar.num <= 0 || sar.den <= 0 { sar = Rational(1, 1) }
        let w = st.width, h = st.height
        let dar = LibAV.reduced(Int64(w) * Int64(sar.num), Int64(h) * Int64(sar.den), max: 1 << 20)
        let rotation = rotationOf(st)
        var dw = Int((Double(w) * Double(sar.num) / Double(sar.den)).rounded()), dh = h
        if rotation == 90 || rotation == 270 { swap(&dw, &dh) }
        let field: String = switch st.fieldOrder {
        case AV_FIELD_PROGRESSIVE: "progressive"
        case AV_FIELD_TT: "tt"
        case AV_FIELD_BB: "bb"
        case AV_FIELD_TB: "tb"
        case AV_FIELD_BT: "bt"
        default: "unknown"
        }
        let tb = st.timeBase
        let duration = st.duration > 0 && st.duration != AVStatus.noPTS ? Double(st.duration) * Double(tb.num) / Double(tb.den) : 0
        let avg = q2d(st.averageFrameRate), real = q2d(st.realFrameRate)
        var v = MediaInfo.Video(
            streamIndex: index, codec: st.codecName, profile: st.profileName,
            pixelFormat: LibAV.name(of: fmt) ?? "unknown",
            bitDepth: depth, chroma: chroma, width: w, height: h,
            sampleAspect: .init(Int(sar.num), Int(sar.den)), displayAspect: .init(Int(dar.num), Int(dar.den)),
            frameRate: 0, frameRateRatio: .init(0, 1), averageFrameRate: avg, variableFrameRate: false,
            fieldOrder: field, interlaced: ["tt", "bb", "tb", "bt"].contains(field), rotation: rotation,
            displayWidth: dw, displayHeight: dh, durationSeconds: duration)
        setOutputRate(&v, real: real, realQ: st.realFrameRate)
        v.colour = colourOf(st)
        return v
    }

    /// The stream's colour tags (gaps filled as the engine fills them) and Dolby Vision configuration.
    /// The stream's colour tags (gaps filled as the engine fills them) and Dolby Vision configuration: its profile,
    /// and the base layer's signal compatibility (1 HDR10, 2 SDR, 4 HLG: profile 8.4 is what iPhones record), which
    /// libav decodes as plain HEVC.
    static func colourOf(_ st: MediaStream) -> MediaInfo.Colour {
        let policy = ColourPolicy(stream: st)
        let tags = policy.tags
        return MediaInfo.Colour(
            primaries: tags.primariesName, transfer: tags.transferName, matrix: tags.matrixName,
            range: policy.range == AVCOL_RANGE_JPEG ? "pc" : "tv", hdr: policy.dynamicRange,
            dolbyVisionProfile: st.dolbyVision?.profile, assumed: policy.assumed, ladder: policy.ladderAction)
    }

    /// Standard rates a measured rate snaps to (within 0.05 % for a constant-rate source).
    static let standardRates: [(Int, Int)] = [
        (24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (50, 1), (60000, 1001), (60, 1), (15, 1), (12, 1),
        (10, 1), (48, 1), (100, 1), (120000, 1001), (120, 1), (240, 1)]

    /// Picks the constant output rate. A constant-rate source keeps its own rate (snapped only to the nearest
    /// standard rate within 0.05 %, so 30 stays 30 and 30000/1001 stays 30000/1001); above 60 fps the output runs at
    /// exactly a half, else a quarter, of it. A variable-rate source gets its average, at most 60, snapped to the
    /// first standard rate within 1 %.
    static func setOutputRate(_ v: inout MediaInfo.Video, real: Double, realQ: Rational) {
        let valid: (Double) -> Bool = { $0 > 1 && $0 <= 240 }
        if v.variableFrameRate {
            let rate = min(valid(v.averageFrameRate) ? v.averageFrameRate : (valid(real) ? real : 25), 60)
            if let s = standardRates.first(where: { abs(Double($0.0) / Double($0.1) - rate) / rate < 0.01 }) {
                v.frameRateRatio = .init(s.0, s.1)
            } else {
                let q = LibAV.rational(approximating: rate, max: 100_000)
                v.frameRateRatio = .init(Int(q.num), Int(q.den))
            }
            v.sourceFrameRateRatio = v.frameRateRatio
            v.frameRate = v.frameRateRatio.value
            return
        }
        var exact: MediaInfo.Ratio
        if valid(real), !valid(v.averageFrameRate) || abs(real - v.averageFrameRate) / real < 0.01 {
            exact = .init(Int(realQ.num), Int(realQ.den))
        } else {
            let q = LibAV.rational(approximating: valid(v.averageFrameRate) ? v.averageFrameRate : 25, max: 100_000)
            exact = .init(Int(q.num), Int(q.den))
        }
        let rate = exact.value
        let nearest = standardRates.min { abs(Double($0.0) / Double($0.1) - rate) < abs(Double($1.0) / Double($1.1) - rate) }!
        if abs(Double(nearest.0) / Double(nearest.1) - rate) / rate <= 0.0005 { exact = .init(nearest.0, nearest.1) }
        v.sourceFrameRateRatio = exact
        // Phone slow motion (120, 240 fps): the ladder plays it at a half or a quarter of the rate, exactly.
        let divisor = rate <= 60 ? 1 : (rate / 2 <= 60 ? 2 : 4)
        let reduced = LibAV.reduced(Int64(exact.num), Int64(exact.den) * Int64(divisor), max: 1 << 30)
        v.frameRateRatio = .init(Int(reduced.num), Int(reduced.den))
        v.frameRate = v.frameRateRatio.value
    }

    /// Clockwise display rotation from the display matrix side data, else the `rotate` tag; 0/90/180/270.
    static func rotationOf(_ st: MediaStream) -> Int {
        var theta = 0.0
        if let r = st.displayMatrixRotation {
            if r.isFinite { theta = -r }
        } else if let tag = st.tag("rotate"), let v = Double(tag) {
            theta = v
        }
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        let snapped = Int((theta / 90).rounded()) * 90 % 360
        return snapped
    }

    static func audioInfo(_ input: InputFile, index: Int) -> MediaInfo.Audio {
        let st = input.stream(index)
        return MediaInfo.Audio(
            streamIndex: index, codec: st.codecName, sampleRate: st.sampleRate, channels: st.channels,
            layout: st.channelLayoutName, bitRate: st.bitRate > 0 ? Int(st.bitRate) : nil,
            languageTag: st.tag("language").map { String($0.prefix(64)) }, title: st.tag("title").map { String($0.prefix(200)) },
            isDefault: st.isDefault)
    }

    /// Reads up to 150 video packets to tell constant from variable frame rate (sorted pts deltas that vary).
    static func scanFrameTiming(_ input: InputFile, info: inout MediaInfo) {
        guard let packet = try? Packet() else { return }
        let index = info.video.streamIndex
        var stamps: [Int64] = []
        var reads = 0
        while stamps.count < 150, reads < 2000, (try? input.read(into: packet)) == true {
            reads += 1
            defer { packet.unref() }
            guard packet.streamIndex == index else { continue }
            if let t = packet.timestamp { stamps.append(t) }
        }
        stamps.sort()
        let deltas = zip(stamps.dropFirst(), stamps).map { $0 - $1 }.filter { $0 > 0 }
        guard deltas.count >= 4, let lo = deltas.min(), let hi = deltas.max() else { return }
        // Field-coded or rounded timestamps jitter by a tick; VFR varies by far more.
        if Double(hi) > Double(lo) * 1.5 && hi - lo > 2 {
            info.video.variableFrameRate = true
            let rate = input.stream(index).realFrameRate
            setOutputRate(&info.video, real: q2d(rate), realQ: rate)
        }
    }

    static func q2d(_ q: Rational) -> Double { q.den == 0 ? 0 : Double(q.num) / Double(q.den) }
}
