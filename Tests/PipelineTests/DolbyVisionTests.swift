import CAV
@testable import Pipeline
import Testing

/// Dolby Vision profile 8 is read as its base layer. No DV fixture can be made here (the ffmpeg 5.1 CLI writes no
/// Dolby Vision configuration), so the rule is checked on the colour policy the probe and the engine share.
@Suite("Dolby Vision")
struct DolbyVisionTests {
    static func policy(transfer: AVColorTransferCharacteristic, compatibility: Int?) -> ColourPolicy {
        ColourPolicy(primaries: AVCOL_PRI_UNSPECIFIED, transfer: transfer, matrix: AVCOL_SPC_UNSPECIFIED,
                     range: AVCOL_RANGE_MPEG, height: 1080, pixelFormat: AV_PIX_FMT_YUV420P10LE,
                     dolbyVisionCompatibility: compatibility)
    }

    @Test("profile 8.4 (iPhone) is HLG and 8.1 is PQ, in BT.2020, even where the HEVC VUI leaves them untagged")
    func baseLayer() {
        let hlg = Self.policy(transfer: AVCOL_TRC_UNSPECIFIED, compatibility: 4)
        #expect(hlg.dynamicRange == "hlg" && hlg.primaries == AVCOL_PRI_BT2020 && hlg.matrix == AVCOL_SPC_BT2020_NCL)
        #expect(Self.policy(transfer: AVCOL_TRC_UNSPECIFIED, compatibility: 1).dynamicRange == "pq")
        // The VUI's own transfer wins; an SDR-compatible base layer (2) stays SDR.
        #expect(Self.policy(transfer: AVCOL_TRC_ARIB_STD_B67, compatibility: 1).dynamicRange == "hlg")
        #expect(Self.policy(transfer: AVCOL_TRC_UNSPECIFIED, compatibility: 2).dynamicRange == "sdr")
    }

    @Test("hvc1 CODECS: the level from the picture size and rate when the SPS cannot be read")
    func hevcLevel() {
        #expect(Encoders.hevcLevel(width: 1280, height: 720, rate: 30) == 93)
        #expect(Encoders.hevcLevel(width: 1920, height: 1080, rate: 30) == 120)
        #expect(Encoders.hevcLevel(width: 1920, height: 1080, rate: 60) == 123)
        #expect(Encoders.hevcLevel(width: 3840, height: 2160, rate: 60) == 153)
    }
}
