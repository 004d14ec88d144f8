import Foundation
import Pipeline
import TestSupport
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// The dashboard's audio languages, subtitle tracks and storyboard preview in headless Chromium (the DevTools
/// driver of ``StatusDashboardTests``): a real package with two audio languages, and a stranger's manifest whose
/// titles are HTML.
@Suite struct StatusTracksDashboardTests {
    static let hostileAudio = "<img src=x onerror=alert(1)>"
    static let hostileSubtitle = "</li><script>window.__pwned = 1</script>"

    @Test func dashboardShowsTracksEscapedAndTheStoryboardTileUnderThePointer() async throws {
        try await withTempDir { dir in
            let bench = try StatusTracksTests.bench(dir)
            let real = try #require(try await StatusTracksTests.transcodeTwoLanguages(bench).id)

            try await bench.drop("hostile.mp4")
            let package = bench.config.outbox.path.appendingPathComponent("hostile")
            try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
            let manifest = """
                {"audioRenditions":[{"name":"audio_en","language":"en","title":\(JSON.encode(Self.hostileAudio)),"default":true}],
                 "subtitleRenditions":[{"name":"subs_fr","language":"fr","title":\(JSON.encode(Self.hostileSubtitle)),"default":false}]}
                """
            let hostile = try #require(try await bench.completeByHand(package: package, manifest: manifest).id)

            let driverURL = dir.appendingPathComponent("cdp_tracks.py")
            try Self.driver.write(to: driverURL, atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(at: StatusDashboardTests.outputDirectory, withIntermediateDirectories: true)
            let report: String = try await withStatusServer(bench.server()) { client async throws in
                let browser = try RunningProcess("python3", [driverURL.path, "http://127.0.0.1:\(client.port)/",
                                                             StatusDashboardTests.outputDirectory.path, "60", "\(real)"])
                let output = await browser.finish(timeout: .seconds(120))
                if output.isEmpty { Issue.record("the browser driver failed: \(browser.errors)") }
                return output
            }
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any], "driver said: \(report)")

            // Audio languages and subtitle tracks: NAME (language), the default marked.
            let cards = try #require(parsed["cards"] as? [String: [String: Any]])
            let realCard = try #require(cards["job-\(real)"])
            #expect(realCard["audio"] as? [String] == ["English (en)", "Commentaire (fr) · default"])
            #expect(realCard["defaults"] as? [Bool] == [false, true])
            #expect((realCard["subtitles"] as? [String])?.isEmpty == true)

            // A stranger's titles are text: no element, no script, no alert.
            let hostileCard = try #require(cards["job-\(hostile)"])
            #expect(hostileCard["audio"] as? [String] == [Self.hostileAudio + " (en) · default"])
            #expect(hostileCard["subtitles"] as? [String] == [Self.hostileSubtitle + " (fr)"])
            #expect(hostileCard["elements"] as? Int == 0)
            #expect(parsed["alerts"] as? [String] == [])
            #expect(parsed["pwned"] as? Bool == false)

            // The page's VTT parser and tile lookup.
            let parse = try #require(parsed["parse"] as? [String: Any])
            let cues = try #require(parse["cues"] as? [[String: Any]])
            #expect(cues.count == 3, "the cross-origin and malformed cues are dropped: \(cues)")
            #expect(cues.map { $0["start"] as? Double } == [0, 5, 10])
            #expect((cues.first?["url"] as? String)?.hasSuffix("/api/jobs/1/storyboard/storyboard_01.jpg") == true)
            #expect((parse["at0"] as? [String: Any])?["x"] as? Int == 0)
            #expect((parse["at7"] as? [String: Any])?["x"] as? Int == 160)
            #expect((parse["at99"] as? [String: Any])?["y"] as? Int == 90)
            #expect(parse["clock"] as? [String] == ["0:00", "1:05", "1:01:01"])

            // Hovering over the poster shows the tile for the time under the pointer, with the time.
            let hover = try #require(parsed["hover"] as? [[String: Any]])
            #expect(hover.count == 2)
            #expect(hover.allSatisfy { $0["display"] as? String == "block" }, "\(hover)")
            #expect(hover.allSatisfy { ($0["bg"] as? String)?.contains("/api/jobs/\(real)/storyboard/storyboard_01.jpg") == true }, "\(hover)")
            #expect(hover.allSatisfy { $0["w"] as? String == "160px" }, "\(hover)")
            #expect(hover.first?["pos"] as? String == "0px 0px", "\(hover)")
            #expect(hover.last?["pos"] as? String == "-480px 0px", "the last of 4 one-second tiles: \(hover)")
            #expect(hover.map { $0["time"] as? String } == ["0:00", "0:03"])
            #expect(parsed["left"] as? String == "none", "the tile hides when the pointer leaves")
            let keyboard = try #require(parsed["keyboard"] as? [String: Any])
            #expect(keyboard["display"] as? String == "block", "\(keyboard)")
            #expect((keyboard["pos"] as? String)?.hasPrefix("-640px") == true, "End shows the last tile: \(keyboard)")
            let sheet = try #require(parsed["sheet"] as? [Int], "the sheet did not load in the browser")
            #expect(sheet.first ?? 0 >= 160)
            #expect(parsed["fetches"] as? Int == 1, "storyboard.vtt is fetched once")
        }
    }

    /// Opens the dashboard, reads the cards' tracks, runs the page's VTT parser, hovers over job `argv[4]`'s poster
    /// at 10% and 90%, and prints what it saw as JSON.
    static let driver = StatusDashboardTests.cdpPrelude + "\n" + #"""
    job = sys.argv[4]
    call("Page.enable"); call("Runtime.enable")
    call("Page.addScriptToEvaluateOnNewDocument", source="""
      window.__alerts = []; window.alert = m => window.__alerts.push(String(m)); window.__fetches = 0;
      const f = window.fetch; window.fetch = (u, o) => { if (String(u).endsWith('.vtt')) window.__fetches++; return f(u, o); };""")
    call("Page.navigate", url=url)
    end = time.time() + timeout
    while time.time() < end and not evaluate("document.querySelectorAll('#done li.job').length >= 2"):
        time.sleep(0.1)
    out = {}
    out["cards"] = evaluate("""Object.fromEntries([...document.querySelectorAll('li.job')].map(li => [li.id, {
      audio: [...li.querySelectorAll('ul[aria-label="Audio languages"] li')].map(x => x.textContent),
      defaults: [...li.querySelectorAll('ul[aria-label="Audio languages"] li')].map(x => x.classList.contains('default')),
      subtitles: [...li.querySelectorAll('ul[aria-label="Subtitle tracks"] li')].map(x => x.textContent),
      elements: li.querySelectorAll('.tracks li *').length}]))""")
    out["parse"] = evaluate("""(() => {
      const base = location.origin + '/api/jobs/1/storyboard/storyboard.vtt';
      const cues = wfStoryboard.parseVTT('WEBVTT\\r\\n\\r\\n00:00.000 --> 00:05.000\\r\\nstoryboard_01.jpg#xywh=0,0,160,90\\r\\n\\r\\n' +
        '00:00:10.000 --> 00:00:15.000\\nstoryboard_02.jpg#xywh=0,90,160,90\\n\\n' +
        '00:00:05.000 --> 00:00:10.000\\nstoryboard_01.jpg#xywh=160,0,160,90\\n\\n' +
        '00:00:15.000 --> 00:00:20.000\\nhttps://evil.example/x.jpg#xywh=0,0,160,90\\n\\n' +
        '00:00:20.000 --> 00:00:25.000\\njavascript:alert(1)#xywh=0,0,160,90\\n\\n' +
        '00:00:25.000 --> 00:00:30.000\\nstoryboard_03.jpg#xywh=0,0,-1,90\\n', base);
      return {cues, at0: wfStoryboard.tileAt(cues, 0), at7: wfStoryboard.tileAt(cues, 7.5), at99: wfStoryboard.tileAt(cues, 99),
              clock: [0, 65.9, 3661].map(wfStoryboard.clock)};
    })()""")
    evaluate("document.querySelector('#job-%s .preview').scrollIntoView({block: 'center'})" % job)
    time.sleep(0.3)
    box = evaluate("(() => { const r = document.querySelector('#job-%s .preview .poster').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()" % job)
    TILE = "(() => { const t = document.querySelector('#job-%s .tile'); return {display: t.style.display, bg: t.style.backgroundImage, pos: t.style.backgroundPosition, w: t.style.width, time: t.textContent, t: t.dataset.time || null}; })()" % job
    out["hover"] = []
    for fraction in (0.1, 0.9):
        seen = evaluate(TILE)["t"]
        call("Input.dispatchMouseEvent", type="mouseMoved", x=box[0] + box[2] * fraction, y=box[1] + box[3] / 2)
        wait = time.time() + 20
        while time.time() < wait and evaluate(TILE)["t"] in (None, seen):
            time.sleep(0.05)
        out["hover"].append(evaluate(TILE))
    screenshot("dashboard-storyboard.png")
    call("Input.dispatchMouseEvent", type="mouseMoved", x=2, y=2)
    time.sleep(0.2)
    out["left"] = evaluate(TILE)["display"]
    # The keyboard: the scrub bar, focused, End moves it to the end, and the last tile shows.
    evaluate("document.querySelector('#job-%s .scrub').focus()" % job)
    for kind in ("keyDown", "keyUp"):
        call("Input.dispatchKeyEvent", type=kind, key="End", code="End", windowsVirtualKeyCode=35, nativeVirtualKeyCode=35)
    wait = time.time() + 20
    while time.time() < wait and evaluate(TILE)["display"] != "block":
        time.sleep(0.05)
    out["keyboard"] = evaluate(TILE)
    sheet_url = out["hover"][-1]["bg"][5:-2] if out["hover"] and out["hover"][-1]["bg"] else ""
    out["sheet"] = call("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression="""new Promise(done => {
      const i = new Image(); i.onload = () => done([i.naturalWidth, i.naturalHeight]); i.onerror = () => done(null); i.src = %s; })""" % json.dumps(sheet_url))["result"].get("value")
    out["fetches"] = evaluate("window.__fetches")
    out["alerts"] = evaluate("window.__alerts")
    out["pwned"] = evaluate("window.__pwned === 1")
    print(json.dumps(out))
"""# + "\n" + StatusDashboardTests.driverEnd
}
