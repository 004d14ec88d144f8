import CAV

/// A source's colour as the engine reads it (tags, with the gaps filled), and the filters that bring it to what
/// every H.264 rung carries: BT.709 primaries, transfer and matrix, limited range, SDR.
struct ColourPolicy {
    var primaries: AVColorPrimaries
    var transfer: AVColorTransferCharacteristic
    var matrix: AVColorSpace
    var range: AVColorRange
    /// True when a tag was missing and taken from the picture height (BT.601 below 720 lines, BT.709 from 720).
    var assumed: Bool
    /// A `yuvj` pixel format: the conversion to `yuv420p` already brings it to limited range.
    var fullRangeFormat: Bool

    /// Fills untagged fields: BT.601 (SMPTE 170M) below 720 lines, BT.709 from 720 up; limited range unless the
    /// pixel format is a full-range (`yuvj`) one. A Dolby Vision stream is read as its base layer: untagged, its
    /// signal compatibility (`dolbyVisionCompatibility`: 1 HDR10, 4 HLG) gives the BT.2020 PQ or HLG it carries.
    init(primaries: AVColorPrimaries, transfer: AVColorTransferCharacteristic, matrix: AVColorSpace,
         range: AVColorRange, height: Int, pixelFormat: AVPixelFormat, dolbyVisionCompatibility: Int? = nil) {
        let hd = height >= 720
        assumed = false
        var primaries = primaries, transfer = transfer
        let untaggedTransfer = [AVCOL_TRC_UNSPECIFIED, AVCOL_TRC_RESERVED, AVCOL_TRC_RESERVED0].contains(transfer)
        if untaggedTransfer, let base = dolbyVisionCompatibility, base == 1 || base == 4 {
            transfer = base == 1 ? AVCOL_TRC_SMPTE2084 : AVCOL_TRC_ARIB_STD_B67
            if [AVCOL_PRI_UNSPECIFIED, AVCOL_PRI_RESERVED, AVCOL_PRI_RESERVED0].contains(primaries) { primaries = AVCOL_PRI_BT2020 }
        }
        if primaries == AVCOL_PRI_UNSPECIFIED || primaries == AVCOL_PRI_RESERVED || primaries == AVCOL_PRI_RESERVED0 {
            self.primaries = hd ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M
            assumed = true
        } else {
            self.primaries = primaries
        }
        if transfer == AVCOL_TRC_UNSPECIFIED || transfer == AVCOL_TRC_RESERVED || transfer == AVCOL_TRC_RESERVED0 {
            self.transfer = hd ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M
            assumed = true
        } else {
            self.transfer = transfer
        }
        if matrix == AVCOL_SPC_UNSPECIFIED || matrix == AVCOL_SPC_RESERVED {
            // An HDR transfer implies BT.2020 whatever the height.
            self.matrix = [AVCOL_TRC_SMPTE2084, AVCOL_TRC_ARIB_STD_B67].contains(self.transfer) ? AVCOL_SPC_BT2020_NCL
                : (hd ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M)
            assumed = true
        } else {
            self.matrix = matrix
        }
        fullRangeFormat = [AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P].contains(pixelFormat)
        if range == AVCOL_RANGE_UNSPECIFIED {
            self.range = fullRangeFormat ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
        } else {
            self.range = range
        }
    }

    /// `pq`, `hlg` or `sdr`.
    var dynamicRange: String {
        switch transfer {
        case AVCOL_TRC_SMPTE2084: "pq"
        case AVCOL_TRC_ARIB_STD_B67: "hlg"
        default: "sdr"
        }
    }

    /// Transfers with the BT.709 curve (SMPTE 170M and BT.2020's SDR curves are the same function).
    private static let bt709Curves: [AVColorTransferCharacteristic] = [
        AVCOL_TRC_BT709, AVCOL_TRC_SMPTE170M, AVCOL_TRC_BT2020_10, AVCOL_TRC_BT2020_12]

    /// True when the pictures are already BT.709 limited range: the rungs only carry the tags.
    var isBT709: Bool {
        primaries == AVCOL_PRI_BT709 && matrix == AVCOL_SPC_BT709 && range == AVCOL_RANGE_MPEG
            && Self.bt709Curves.contains(transfer)
    }

    /// Filters (comma-joined, ending in yuv420p) that turn the decoded pictures into BT.709 SDR limited range.
    /// PQ and HLG are tone-mapped with zscale + tonemap (Hable); other SDR sources are converted with `colorspace`
    /// (primaries, transfer and matrix, not only relabelled).
    var toBT709: String {
        switch dynamicRange {
        case "pq", "hlg":
            // Linear light at 100 nits reference white, BT.709 primaries in float, Hable's filmic curve (keeps
            // highlight detail and mid-tone contrast without the hue shifts of per-channel clipping).
            return "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
                + "zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
        default:
            if isBT709 { return "format=yuv420p" }
            return "format=yuv420p,colorspace=all=bt709:range=tv:format=yuv420p"
                + ":iprimaries=\(supported(Self.primaryNames, tags.primariesName, "bt709"))"
                + ":itrc=\(supported(Self.transferNames, tags.transferName, "bt709"))"
                + ":ispace=\(supported(Self.matrixNames, tags.matrixName, "bt709"))"
                + ":irange=\(range == AVCOL_RANGE_JPEG && !fullRangeFormat ? "pc" : "tv")"
        }
    }

    /// What the H.264 ladder does with this source (`watchfolder probe`, `manifest.json`).
    var ladderAction: String {
        switch dynamicRange {
        case "pq": return "tone-mapped from PQ (HDR10) to SDR BT.709"
        case "hlg": return "tone-mapped from HLG to SDR BT.709"
        default:
            if isBT709 { return assumed ? "taken as BT.709 (untagged, 720 lines or more) and tagged BT.709" : "tagged BT.709" }
            let from = primaries == AVCOL_PRI_BT2020 ? "BT.2020" : (primaries == AVCOL_PRI_BT709 ? "BT.709" : "BT.601")
            return "converted from \(from)\(range == AVCOL_RANGE_JPEG ? " full range" : "") to BT.709 limited range"
                + (assumed ? " (untagged: taken as \(from)\(from == "BT.601" ? ", under 720 lines" : ""))" : "")
        }
    }

    /// The filled tags.
    var tags: ColourTags { ColourTags(primaries: primaries, transfer: transfer, matrix: matrix, range: range) }

    /// Writes the filled tags into a decoded frame (the filters read them from the frame).
    func tag(_ frame: Frame) { frame.colour = tags }

    /// The tags every H.264 rung's VUI carries.
    static func tagBT709(_ context: CodecContext) { context.tag(.bt709) }

    /// The source's own tags, for an HEVC rung that keeps its HDR (`hdr = "keep"`): written into its VUI.
    func tagSource(_ context: CodecContext) { context.tag(tags) }

    // The names libavfilter's `colorspace` knows for its input; anything else is read as BT.709.
    private static let primaryNames: Set = ["bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "film", "bt2020",
                                            "smpte428", "smpte431", "smpte432", "jedec-p22", "ebu3213"]
    private static let transferNames: Set = ["bt709", "gamma22", "gamma28", "smpte170m", "smpte240m", "linear",
                                             "iec61966-2-1", "iec61966-2-4", "bt2020-10", "bt2020-12"]
    private static let matrixNames: Set = ["bt709", "fcc", "bt470bg", "smpte170m", "smpte240m", "ycgco", "bt2020nc"]

    private func supported(_ names: Set<String>, _ name: String, _ fallback: String) -> String {
        names.contains(name) ? name : fallback
    }
}

extension ColourPolicy {
    /// A decoded frame's colour tags, gaps filled (`dolbyVisionCompatibility`: its stream's, as above).
    init(frame: Frame, dolbyVisionCompatibility: Int?) {
        let c = frame.colour
        self.init(primaries: c.primaries, transfer: c.transfer, matrix: c.matrix, range: c.range, height: frame.height,
                  pixelFormat: frame.pixelFormat, dolbyVisionCompatibility: dolbyVisionCompatibility)
    }

    /// A stream's colour as its parameters tag it (gaps filled; Dolby Vision read as its base layer).
    init(stream: MediaStream) {
        let c = stream.colour
        self.init(primaries: c.primaries, transfer: c.transfer, matrix: c.matrix, range: c.range, height: stream.height,
                  pixelFormat: stream.pixelFormat, dolbyVisionCompatibility: stream.dolbyVision?.compatibility)
    }
}
