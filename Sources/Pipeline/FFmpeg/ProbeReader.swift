import CAV
import Foundation

/// Fills a ``MediaInfo`` from libavformat (the only place that turns `AVStream` fields into probe facts).
enum ProbeReader {
    /// Reads what the engine needs to know from an opened `input`, and refuses what it will not transcode
    /// (no video, frames over `max_pixels`, a header duration over `max_duration_seconds`).
    static func read(_ input: InputFile, source: SourceFile, limits: Limits) throws(PipelineError) -> MediaInfo {
        let name = source.name
        var streams: [MediaInfo.Stream] = []
        for i in 0..<input.streamCount {
            let par = input.stream(i).pointee.codecpar!.pointee
            streams.append(.init(index: i, type: mediaTypeName(par.codec_type),
                                 codec: String(cString: avcodec_get_name(par.codec_id))))
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
        let formatDuration = input.raw.pointee.duration > 0 ? Double(input.raw.pointee.duration) / Double(AV_TIME_BASE) : 0
        var v = video
        if v.durationSeconds <= 0 { v.durationSeconds = formatDuration }
        var info = MediaInfo(
            file: name,
            container: String(cString: input.raw.pointee.iformat.pointee.name),
            durationSeconds: formatDuration > 0 ? formatDuration : v.durationSeconds,
            bitRate: input.raw.pointee.bit_rate > 0 ? Int(input.raw.pointee.bit_rate) : nil,
            sizeBytes: source.status.size, streams: streams, video: v, audio: nil)
        // A duration estimated from timestamps includes their jumps (closed while transcoding): only a duration the
        // container declares is held against the bound here; the output is held against it as it is made.
        if !input.durationFromTimestamps, info.durationSeconds > limits.maxDurationSeconds {
            throw PipelineError(.limit, file: name, String(
                format: "refused: it lasts %.0f s, longer than max_duration_seconds (%.0f)", info.durationSeconds,
                limits.maxDurationSeconds))
        }
        if let a = input.bestStream(AVMEDIA_TYPE_AUDIO), avcodec_find_decoder(input.stream(a).pointee.codecpar.pointee.codec_id) != nil {
            info.audio = audioInfo(input, index: a)
        }
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
        if error.code == AVStatus.invalidData || error.code == CAV_AVERROR(EIO) {
            if looksLikeISOBMFF(source) {
                return PipelineError(.badInput, file: name, "no video stream found (moov atom missing?)")
            }
            return PipelineError(.badInput, file: name, "not a video file: no container format recognised (\(error.message))")
        }
        if error.code == CAV_AVERROR(ENOMEM) {
            return PipelineError(.media, file: name, "out of memory while opening the file (\(error.call))")
        }
        if error.code == CAV_AVERROR(ENOENT) || error.code == CAV_AVERROR(EACCES) {
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
        if let best = input.bestStream(AVMEDIA_TYPE_VIDEO) { candidates.append(best) }
        candidates += (0..<input.streamCount).filter { !candidates.contains($0) }
        for i in candidates {
            let st = input.stream(i).pointee
            let par = st.codecpar.pointee
            guard par.codec_type == AVMEDIA_TYPE_VIDEO, st.disposition & AV_DISPOSITION_ATTACHED_PIC == 0,
                  par.width > 0, par.height > 0, avcodec_find_decoder(par.codec_id) != nil else { continue }
            return i
        }
        return nil
    }

    static func mediaTypeName(_ t: AVMediaType) -> String {
        switch t {
        case AVMEDIA_TYPE_VIDEO: "video"
        case AVMEDIA_TYPE_AUDIO: "audio"
        case AVMEDIA_TYPE_SUBTITLE: "subtitle"
        case AVMEDIA_TYPE_ATTACHMENT: "attachment"
        default: "data"
        }
    }

    static func videoInfo(_ input: InputFile, index: Int) -> MediaInfo.Video {
        let st = input.stream(index)
        let par = st.pointee.codecpar.pointee
        let fmt = AVPixelFormat(rawValue: par.format)
        let desc = av_pix_fmt_desc_get(fmt)
        let depth = desc.map { Int($0.pointee.comp.0.depth) } ?? 8
        let chroma: String = desc.map { d in
            switch (d.pointee.log2_chroma_w, d.pointee.log2_chroma_h) {
            case (1, 1): "4:2:0"
            case (1, 0): "4:2:2"
            case (0, 0): "4:4:4"
            case (2, 0): "4:1:1"
            default: "other"
            }
        } ?? "unknown"
        var sar = st.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = par.sample_aspect_ratio }
        if sar.num <= 0 || sar.den <= 0 { sar = AVRational(num: 1, den: 1) }
        let w = Int(par.width), h = Int(par.height)
        var darNum: Int32 = 0, darDen: Int32 = 0
        av_reduce(&darNum, &darDen, Int64(w) * Int64(sar.num), Int64(h) * Int64(sar.den), 1 << 20)
        let rotation = rotationOf(st)
        var dw = Int((Double(w) * Double(sar.num) / Double(sar.den)).rounded()), dh = h
        if rotation == 90 || rotation == 270 { swap(&dw, &dh) }
        let field: String = switch par.field_order {
        case AV_FIELD_PROGRESSIVE: "progressive"
        case AV_FIELD_TT: "tt"
        case AV_FIELD_BB: "bb"
        case AV_FIELD_TB: "tb"
        case AV_FIELD_BT: "bt"
        default: "unknown"
        }
        let tb = st.pointee.time_base
        let duration = st.pointee.duration > 0 && st.pointee.duration != AVStatus.noPTS
            ? Double(st.pointee.duration) * Double(tb.num) / Double(tb.den) : 0
        let avg = q2d(st.pointee.avg_frame_rate), real = q2d(st.pointee.r_frame_rate)
        let profileName = avcodec_profile_name(par.codec_id, par.profile).map { String(cString: $0) }
        var v = MediaInfo.Video(
            streamIndex: index, codec: String(cString: avcodec_get_name(par.codec_id)), profile: profileName,
            pixelFormat: av_get_pix_fmt_name(fmt).map { String(cString: $0) } ?? "unknown",
            bitDepth: depth, chroma: chroma, width: w, height: h,
            sampleAspect: .init(Int(sar.num), Int(sar.den)), displayAspect: .init(Int(darNum), Int(darDen)),
            frameRate: 0, frameRateRatio: .init(0, 1), averageFrameRate: avg, variableFrameRate: false,
            fieldOrder: field, interlaced: ["tt", "bb", "tb", "bt"].contains(field), rotation: rotation,
            displayWidth: dw, displayHeight: dh, durationSeconds: duration)
        setOutputRate(&v, real: real, realQ: st.pointee.r_frame_rate)
        v.colour = colourOf(st)
        return v
    }

    /// The stream's colour tags (gaps filled as the engine fills them) and Dolby Vision configuration.
    static func colourOf(_ st: UnsafeMutablePointer<AVStream>) -> MediaInfo.Colour {
        let dolby = dolbyVision(st)
        let policy = colourPolicy(st)
        return MediaInfo.Colour(
            primaries: avName(av_color_primaries_name(policy.primaries)), transfer: avName(av_color_transfer_name(policy.transfer)),
            matrix: avName(av_color_space_name(policy.matrix)), range: policy.range == AVCOL_RANGE_JPEG ? "pc" : "tv",
            hdr: policy.dynamicRange, dolbyVisionProfile: dolby?.profile, assumed: policy.assumed, ladder: policy.ladderAction)
    }

    /// The stream's colour as its parameters tag it (gaps filled; Dolby Vision read as its base layer).
    static func colourPolicy(_ st: UnsafeMutablePointer<AVStream>) -> ColourPolicy {
        let par = st.pointee.codecpar.pointee
        return ColourPolicy(primaries: par.color_primaries, transfer: par.color_trc, matrix: par.color_space,
                            range: par.color_range, height: Int(par.height), pixelFormat: AVPixelFormat(rawValue: par.format),
                            dolbyVisionCompatibility: dolbyVision(st)?.compatibility)
    }

    /// The stream's Dolby Vision configuration (`dvcC`/`dvvC`): its profile, and the base layer's signal
    /// compatibility (1 HDR10, 2 SDR, 4 HLG: profile 8.4 is what iPhones record), which libav decodes as plain HEVC.
    static func dolbyVision(_ st: UnsafeMutablePointer<AVStream>) -> (profile: Int, compatibility: Int)? {
        var size = 0
        guard let data = av_stream_get_side_data(st, AV_PKT_DATA_DOVI_CONF, &size),
              size >= MemoryLayout<AVDOVIDecoderConfigurationRecord>.size else { return nil }
        return data.withMemoryRebound(to: AVDOVIDecoderConfigurationRecord.self, capacity: 1) {
            (Int($0.pointee.dv_profile), Int($0.pointee.dv_bl_signal_compatibility_id))
        }
    }

    /// Standard rates a measured rate snaps to (within 0.05 % for a constant-rate source).
    static let standardRates: [(Int, Int)] = [
        (24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (50, 1), (60000, 1001), (60, 1), (15, 1), (12, 1),
        (10, 1), (48, 1), (100, 1), (120000, 1001), (120, 1), (240, 1)]

    /// Picks the constant output rate. A constant-rate source keeps its own rate (snapped only to the nearest
    /// standard rate within 0.05 %, so 30 stays 30 and 30000/1001 stays 30000/1001); above 60 fps the output runs at
    /// exactly a half, else a quarter, of it. A variable-rate source gets its average, at most 60, snapped to the
    /// first standard rate within 1 %.
    static func setOutputRate(_ v: inout MediaInfo.Video, real: Double, realQ: AVRational) {
        let valid: (Double) -> Bool = { $0 > 1 && $0 <= 240 }
        if v.variableFrameRate {
            let rate = min(valid(v.averageFrameRate) ? v.averageFrameRate : (valid(real) ? real : 25), 60)
            if let s = standardRates.first(where: { abs(Double($0.0) / Double($0.1) - rate) / rate < 0.01 }) {
                v.frameRateRatio = .init(s.0, s.1)
            } else {
                let q = av_d2q(rate, 100_000)
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
            let q = av_d2q(valid(v.averageFrameRate) ? v.averageFrameRate : 25, 100_000)
            exact = .init(Int(q.num), Int(q.den))
        }
        let rate = exact.value
        let nearest = standardRates.min { abs(Double($0.0) / Double($0.1) - rate) < abs(Double($1.0) / Double($1.1) - rate) }!
        if abs(Double(nearest.0) / Double(nearest.1) - rate) / rate <= 0.0005 { exact = .init(nearest.0, nearest.1) }
        v.sourceFrameRateRatio = exact
        // Phone slow motion (120, 240 fps): the ladder plays it at a half or a quarter of the rate, exactly.
        let divisor = rate <= 60 ? 1 : (rate / 2 <= 60 ? 2 : 4)
        var num = Int32(0), den = Int32(0)
        av_reduce(&num, &den, Int64(exact.num), Int64(exact.den) * Int64(divisor), 1 << 30)
        v.frameRateRatio = .init(Int(num), Int(den))
        v.frameRate = v.frameRateRatio.value
    }

    /// Clockwise display rotation from the display matrix side data, else the `rotate` tag; 0/90/180/270.
    static func rotationOf(_ st: UnsafeMutablePointer<AVStream>) -> Int {
        var theta = 0.0
        var size: Int = 0
        if let data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 {
            let r = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
            if r.isFinite { theta = -r }
        } else if let tag = av_dict_get(st.pointee.metadata, "rotate", nil, 0), let v = Double(String(cString: tag.pointee.value)) {
            theta = v
        }
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        let snapped = Int((theta / 90).rounded()) * 90 % 360
        return snapped
    }

    static func audioInfo(_ input: InputFile, index: Int) -> MediaInfo.Audio {
        let par = input.stream(index).pointee.codecpar!
        var buffer = [CChar](repeating: 0, count: 128)
        var layout = par.pointee.ch_layout
        if layout.order == AV_CHANNEL_ORDER_UNSPEC { av_channel_layout_default(&layout, par.pointee.ch_layout.nb_channels) }
        av_channel_layout_describe(&layout, &buffer, buffer.count)
        return MediaInfo.Audio(
            streamIndex: index, codec: String(cString: avcodec_get_name(par.pointee.codec_id)),
            sampleRate: Int(par.pointee.sample_rate), channels: Int(par.pointee.ch_layout.nb_channels),
            layout: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            bitRate: par.pointee.bit_rate > 0 ? Int(par.pointee.bit_rate) : nil)
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
            guard Int(packet.raw.pointee.stream_index) == index else { continue }
            let t = packet.raw.pointee.pts != AVStatus.noPTS ? packet.raw.pointee.pts : packet.raw.pointee.dts
            if t != AVStatus.noPTS { stamps.append(t) }
        }
        stamps.sort()
        let deltas = zip(stamps.dropFirst(), stamps).map { $0 - $1 }.filter { $0 > 0 }
        guard deltas.count >= 4, let lo = deltas.min(), let hi = deltas.max() else { return }
        // Field-coded or rounded timestamps jitter by a tick; VFR varies by far more.
        if Double(hi) > Double(lo) * 1.5 && hi - lo > 2 {
            info.video.variableFrameRate = true
            let st = input.stream(index)
            setOutputRate(&info.video, real: q2d(st.pointee.r_frame_rate), realQ: st.pointee.r_frame_rate)
        }
    }

    static func q2d(_ q: AVRational) -> Double { q.den == 0 ? 0 : Double(q.num) / Double(q.den) }
}
