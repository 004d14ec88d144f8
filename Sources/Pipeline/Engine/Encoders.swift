import Foundation

/// Opens encoders with the options the HLS package needs.
enum Encoders {
    /// The device whose surfaces `encoder` takes: VA-API encodes only frames uploaded to its device.
    static func deviceType(for encoder: String) -> HardwareDevice.Kind? {
        encoder == "h264_vaapi" ? .vaapi : nil
    }

    /// The pixel format the filter graph hands `encoder` (QSV and VA-API take NV12).
    static func softwareFormat(for encoder: String) -> PixelFormat {
        encoder == "h264_qsv" || encoder == "h264_vaapi" ? .nv12 : .yuv420p
    }

    /// An H.264 encoder (libx264 High with `scenecut=0` and forced IDRs, or a GPU encoder) ready for frames.
    /// - Throws: ``MediaError`` when the encoder is missing or does not open (a GPU that is not there).
    static func video(_ s: VideoEncoderSettings) throws(MediaError) -> CodecContext {
        let ctx = try CodecContext.encoder(named: s.encoder, stage: "encode")
        configure(ctx, s)
        if let frames = s.hardwareFrames {
            ctx.takeSurfaces(of: frames)
        } else {
            ctx.pixelFormat = softwareFormat(for: s.encoder)
        }
        ColourPolicy.tagBT709(ctx)  // written into the VUI: players need not guess
        var options: [(String, String)] = [("forced-idr", "1")]
        switch s.encoder {
        case "libx264":
            options += [("preset", s.preset), ("profile", "high"), ("x264-params", "scenecut=0:open-gop=0")]
        case "h264_nvenc":
            options += [("profile", "high"), ("rc", "vbr"), ("no-scenecut", "1")]
        case "h264_qsv":
            options += [("profile", "high")]
        default:
            options += [("profile", "high")]
        }
        try ctx.open(options: options)
        return ctx
    }

    /// What every rendition's encoder shares: size, rate, square pixels, VBV, GOP, threads, global header.
    private static func configure(_ c: CodecContext, _ s: VideoEncoderSettings) {
        c.configureVideo(width: s.width, height: s.height, frameRate: s.frameRate, bitrate: s.bitrate, maxrate: s.maxrate,
                         bufsize: s.bufsize, gop: s.gop, globalHeader: s.globalHeader)
    }

    /// The encoder of every HEVC rung that keeps the source's HDR (`hdr = "keep"`), whatever `hardware` says.
    static let hevcEncoder = "libx265"

    /// The pixel format an HEVC HDR rung is encoded in: 10-bit 4:2:0.
    static let hevcFormat = PixelFormat.yuv420p10le

    /// libx265 Main10 (10-bit 4:2:0, `scenecut=0`, closed GOPs, forced IDRs) whose VUI carries the source's own
    /// primaries, transfer, matrix and range (`colour`): an HEVC rung that keeps the source's PQ or HLG.
    /// - Throws: ``MediaError`` when libx265 is missing or does not open.
    static func hevcHDR(_ s: VideoEncoderSettings, colour: ColourPolicy) throws(MediaError) -> CodecContext {
        let ctx: CodecContext
        do {
            ctx = try CodecContext.encoder(named: hevcEncoder, stage: "encode")
        } catch where error.call.hasPrefix("avcodec_find_encoder") {
            var missing = error
            missing.message += " (hdr = \"keep\" needs it)"
            throw missing
        }
        configure(ctx, s)
        ctx.pixelFormat = hevcFormat
        colour.tagSource(ctx)
        try ctx.open(options: [("forced-idr", "1"), ("preset", s.preset), ("profile", "main10"),
                               ("x265-params", "scenecut=0:open-gop=0:log-level=error")])
        return ctx
    }

    /// The shared AAC-LC stereo 48 kHz encoder.
    static func aac(bitrate: Int, globalHeader: Bool) throws(MediaError) -> CodecContext {
        let ctx = try CodecContext.encoder(for: .aac, stage: "encode")
        ctx.configureAudio(sampleRate: 48_000, channels: 2, bitrate: bitrate, globalHeader: globalHeader)
        try ctx.open()
        return ctx
    }

    /// `avc1.PPCCLL` from the encoder's SPS (extradata, Annex B or avcC), else from profile/level fields.
    static func avc1Codecs(_ ctx: CodecContext) -> String {
        let bytes = ctx.extradata
        if bytes.count > 4 {
            if bytes[0] == 1 {  // avcC
                return String(format: "avc1.%02X%02X%02X", bytes[1], bytes[2], bytes[3])
            }
            var i = 0
            while i + 6 < bytes.count {
                if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1, bytes[i + 3] & 0x1F == 7 {
                    return String(format: "avc1.%02X%02X%02X", bytes[i + 4], bytes[i + 5], bytes[i + 6])
                }
                i += 1
            }
        }
        let profile = ctx.profile > 0 ? ctx.profile & 0xFF : 100
        let level = ctx.level > 0 ? ctx.level : 40
        return String(format: "avc1.%02X00%02X", profile, level)
    }

    /// `hvc1.P.C.TL.B` (RFC 6381 / ISO 14496-15 E.3) from the profile_tier_level of the encoder's SPS (Annex B
    /// extradata, or the hvcC header): `hvc1.2.4.L93.90` for libx265 Main10 at 720p25. Without one, Main10 with the
    /// level from the picture size and rate, and the flags libx265 writes (progressive, frame only: `90`).
    static func hvc1Codecs(_ ctx: CodecContext) -> String {
        var ptl: [UInt8]?  // the 12 bytes of general_profile_tier_level
        let bytes = ctx.extradata
        if bytes.count > 13 {
            if bytes[0] == 1 {  // hvcC
                ptl = Array(bytes[1...12])
            } else {
                var i = 0
                while i + 4 < bytes.count, ptl == nil {
                    if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1, (bytes[i + 3] >> 1) & 0x3F == 33 {  // SPS
                        // Start code (3 bytes), NAL header (2), vps id / max sub layers / nesting (1), then the PTL.
                        var rbsp: [UInt8] = []
                        var zeros = 0
                        for b in bytes[min(i + 6, bytes.count)...] {
                            if zeros >= 2 && b == 3 { zeros = 0; continue }  // emulation prevention
                            rbsp.append(b)
                            zeros = b == 0 ? zeros + 1 : 0
                            if rbsp.count == 12 { break }
                        }
                        if rbsp.count == 12 { ptl = rbsp }
                    }
                    i += 1
                }
            }
        }
        guard let p = ptl else {
            return "hvc1.2.4.L\(hevcLevel(width: ctx.width, height: ctx.height, rate: ctx.frameRate.value)).90"
        }
        let space = ["", "A", "B", "C"][Int(p[0] >> 6)]
        let tier = p[0] & 0x20 != 0 ? "H" : "L"
        let compatibility = UInt32(p[1]) << 24 | UInt32(p[2]) << 16 | UInt32(p[3]) << 8 | UInt32(p[4])
        var reversed: UInt32 = 0
        for bit in 0..<32 where compatibility & (1 << bit) != 0 { reversed |= 1 << (31 - bit) }
        var constraints = Array(p[5...10])
        while constraints.last == 0 { constraints.removeLast() }
        return "hvc1.\(space)\(p[0] & 0x1F).\(String(reversed, radix: 16, uppercase: true)).\(tier)\(p[11])"
            + constraints.map { "." + String($0, radix: 16, uppercase: true) }.joined()
    }

    /// The lowest HEVC level (level_idc: 30 x the level) whose luma picture size and sample rate fit (H.265 A.4.1).
    static func hevcLevel(width: Int, height: Int, rate: Double) -> Int {
        let samples = width * height
        let levels: [(idc: Int, picture: Int, perSecond: Double)] = [
            (30, 36_864, 552_960), (60, 122_880, 3_686_400), (63, 245_760, 7_372_800), (90, 552_960, 16_588_800),
            (93, 983_040, 33_177_600), (120, 2_228_224, 66_846_720), (123, 2_228_224, 133_693_440),
            (150, 8_912_896, 267_386_880), (153, 8_912_896, 534_773_760), (156, 8_912_896, 1_069_547_520),
            (180, 35_651_584, 1_069_547_520), (183, 35_651_584, 2_139_095_040), (186, 35_651_584, 4_278_190_080)]
        return levels.first { samples <= $0.picture && Double(samples) * rate <= $0.perSecond }?.idc ?? 186
    }
}
