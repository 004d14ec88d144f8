import Pipeline
import Testing

@Suite("Ladder planning")
struct LadderPlannerTests {
    func plan(_ w: Int, _ h: Int, _ ladder: [Rung] = Rung.defaultLadder) -> [PlannedRung] {
        LadderPlanner.plan(displayWidth: w, displayHeight: h, ladder: ladder)
    }

    @Test func fullHDGetsTheWholeDefaultLadder() {
        let p = plan(1920, 1080)
        #expect(p.map(\.height) == [1080, 720, 480, 360])
        #expect(p.map(\.width) == [1920, 1280, 854, 640])
        #expect(p.map(\.name) == ["1080p", "720p", "480p", "360p"])
        #expect(p.map(\.videoBitrate) == [5_000_000, 2_800_000, 1_400_000, 800_000])
        #expect(p[0].maxrate == 5_350_000 && p[0].bufsize == 7_500_000)
    }

    @Test func neverUpscales() {
        #expect(plan(1280, 720).map(\.height) == [720, 480, 360])
        #expect(plan(3840, 2160).map(\.height) == [1080, 720, 480, 360])
        #expect(plan(854, 480).map(\.height) == [480, 360])
    }

    @Test func unsortedLadderComesOutHighestFirstWithoutDuplicates() {
        let ladder = [Rung(height: 360, videoBitrate: 800_000), Rung(height: 720, videoBitrate: 2_800_000),
                      Rung(height: 360, videoBitrate: 900_000)]
        #expect(plan(1920, 1080, ladder).map(\.height) == [720, 360])
    }

    @Test func tinySourceGetsOneRungAtItsOwnSize() {
        let p = plan(160, 90)
        #expect(p.count == 1)
        #expect(p[0].width == 160 && p[0].height == 90)
        #expect(p[0].videoBitrate < 800_000 && p[0].videoBitrate >= 200_000, "rates scaled down, at most 4x")
    }

    @Test func oddSizesBecomeEven() {
        let p = plan(321, 241)
        #expect(p.count == 1)
        #expect(p[0].width % 2 == 0 && p[0].height % 2 == 0)
        #expect(p[0].height == 240 && p[0].width == 320)
    }

    @Test func portraitKeepsAspectAndHeights() {
        // A phone clip stored 1920x1080 with a 90° display matrix displays 1080x1920.
        let p = plan(1080, 1920)
        #expect(p.map(\.height) == [1080, 720, 480, 360])
        #expect(p.map(\.width) == [608, 406, 270, 202])
    }

    @Test func widthsFollowTheDisplayAspect() {
        // 720x576 with SAR 64:45 displays 1024x576: 16:9 square-pixel rungs.
        #expect(plan(1024, 576).map(\.width) == [854, 640])
        // 4:3
        #expect(plan(640, 480).map(\.width) == [640, 480])
        // Cinemascope
        for r in plan(1920, 800) {
            #expect(abs(Double(r.width) / Double(r.height) - 2.4) < 0.02)
            #expect(r.width % 2 == 0)
        }
    }
}

@Suite("Hardware selection")
struct HardwareSelectionTests {
    @Test func cpuAlwaysMeansLibx264() throws {
        #expect(try HardwareProbe.select(.cpu, available: Set(HardwareProbe.gpuEncoders)) == "libx264")
    }

    @Test func autoTakesTheFirstWorkingGPUInOrder() throws {
        #expect(try HardwareProbe.select(.auto, available: []) == "libx264")
        #expect(try HardwareProbe.select(.auto, available: ["h264_qsv"]) == "h264_qsv")
        #expect(try HardwareProbe.select(.auto, available: ["h264_qsv", "h264_vaapi"]) == "h264_vaapi")
        #expect(try HardwareProbe.select(.auto, available: Set(HardwareProbe.gpuEncoders)) == "h264_nvenc")
    }

    @Test func aNamedGPUMustBeThere() throws {
        #expect(try HardwareProbe.select(.nvenc, available: ["h264_nvenc"]) == "h264_nvenc")
        #expect(try HardwareProbe.select(.qsv, available: ["h264_qsv"]) == "h264_qsv")
        for pref in [HardwarePreference.nvenc, .vaapi, .qsv] {
            #expect(throws: PipelineError.self) { try HardwareProbe.select(pref, available: ["h264_nvenc", "h264_vaapi", "h264_qsv"].filter { $0 != HardwareProbe.encoderName(for: pref) }.reduce(into: Set<String>()) { $0.insert($1) }) }
        }
    }

    @Test func missingGPUIsAConfigErrorNamingTheEncoder() {
        do {
            _ = try HardwareProbe.select(.vaapi, available: [])
            Issue.record("expected an error")
        } catch let error as PipelineError {
            #expect(error.code == .hardware)
            #expect(error.description.contains("h264_vaapi"))
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func realProbeIsConsistentWithCheck() throws {
        // The real probe opens a tiny session per GPU encoder (none opens on a machine without a GPU).
        let available = HardwareProbe.available
        #expect(available.isSubset(of: Set(HardwareProbe.gpuEncoders)))
        #expect(HardwareProbe.available == available, "cached")
        try HardwareProbe.check(.cpu)
        try HardwareProbe.check(.auto)
        for pref in [HardwarePreference.nvenc, .vaapi, .qsv] {
            let name = HardwareProbe.encoderName(for: pref)!
            if available.contains(name) {
                try HardwareProbe.check(pref)
            } else {
                #expect(throws: PipelineError.self) { try HardwareProbe.check(pref) }
            }
        }
    }
}
