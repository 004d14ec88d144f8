import CAV

/// The colour tags libav carries on a frame, a codec context or a stream's parameters, as they are (no gaps filled).
struct ColourTags: Equatable {
    var primaries: AVColorPrimaries
    var transfer: AVColorTransferCharacteristic
    var matrix: AVColorSpace
    var range: AVColorRange

    /// BT.709 primaries, transfer and matrix, limited range: what every H.264 rung carries.
    static let bt709 = ColourTags(primaries: AVCOL_PRI_BT709, transfer: AVCOL_TRC_BT709, matrix: AVCOL_SPC_BT709,
                                  range: AVCOL_RANGE_MPEG)

    /// libavutil's names (`bt709`, `smpte2084`, `bt2020nc`), or `unknown`.
    var primariesName: String { name(av_color_primaries_name(primaries)) }
    var transferName: String { name(av_color_transfer_name(transfer)) }
    var matrixName: String { name(av_color_space_name(matrix)) }

    private func name(_ c: UnsafePointer<CChar>?) -> String { c.map { String(cString: $0) } ?? "unknown" }
}
