import CAV
@testable import Pipeline
import Testing

/// The GPU encode path's plumbing, on the parts that run without a GPU: hardware surfaces (Vulkan on Mesa's
/// lavapipe, a CPU driver that `make test` installs, stands in for a VA-API device: both go through
/// libavutil's hwcontext API) and the encoder probe.
@Suite("Hardware frames")
struct HardwareFramesTests {
    @Test("a software frame uploaded to device surfaces comes back byte for byte, with its pts and picture type")
    func uploadRoundTrip() throws {
        let (width, height) = (320, 180)
        let frames = try HardwareFrames(device: HardwareDevice(AV_HWDEVICE_TYPE_VULKAN), width: width, height: height)
        #expect(frames.format == AV_PIX_FMT_VULKAN)

        let source = try Frame()
        source.raw.pointee.format = AV_PIX_FMT_NV12.rawValue
        source.raw.pointee.width = Int32(width)
        source.raw.pointee.height = Int32(height)
        #expect(av_frame_get_buffer(source.raw, 0) >= 0)
        for plane in 0..<2 {
            for y in 0..<(plane == 0 ? height : height / 2) {
                let row = row(source, plane, y)
                for x in 0..<width { row[x] = pattern(plane, x, y) }
            }
        }
        source.raw.pointee.pts = 4242
        source.raw.pointee.pict_type = AV_PICTURE_TYPE_I

        let surface = try Frame()
        try frames.upload(source, into: surface)
        #expect(surface.raw.pointee.format == AV_PIX_FMT_VULKAN.rawValue)
        #expect(surface.raw.pointee.hw_frames_ctx != nil)
        #expect(surface.raw.pointee.pts == 4242)
        #expect(surface.raw.pointee.pict_type == AV_PICTURE_TYPE_I)

        let back = try Frame()
        try frames.download(surface, into: back)
        #expect(back.raw.pointee.format == AV_PIX_FMT_NV12.rawValue)
        #expect(back.raw.pointee.pts == 4242)
        var mismatches = 0
        for plane in 0..<2 {
            for y in 0..<(plane == 0 ? height : height / 2) {
                let row = row(back, plane, y)
                for x in 0..<width where row[x] != pattern(plane, x, y) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("surfaces of a size the device cannot hold are refused with the call named, not a crash")
    func impossibleSize() throws {
        let device = try HardwareDevice(AV_HWDEVICE_TYPE_VULKAN)
        #expect {
            _ = try HardwareFrames(device: device, width: 1 << 20, height: 1 << 20)
        } throws: { error in
            (error as? MediaError)?.description.contains("av_hwframe_ctx_init") == true
        }
    }

    @Test("the encoder probe opens libx264 with a job's options, and refuses an encoder libavcodec lacks")
    func probe() {
        #expect(EncoderProbe.opens("libx264"))
        #expect(!EncoderProbe.opens("h264_nonexistent"))
    }

    /// Row `y` of NV12 plane 0 (luma) or 1 (interleaved chroma).
    private func row(_ frame: Frame, _ plane: Int, _ y: Int) -> UnsafeMutablePointer<UInt8> {
        let f = frame.raw.pointee
        return plane == 0 ? f.data.0! + y * Int(f.linesize.0) : f.data.1! + y * Int(f.linesize.1)
    }

    private func pattern(_ plane: Int, _ x: Int, _ y: Int) -> UInt8 { UInt8(truncatingIfNeeded: x * 7 + y * 13 + plane * 101) }
}
