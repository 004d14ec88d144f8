import Foundation
import Hummingbird
import Pipeline
import TestSupport
import Testing
@testable import WatchFolder
@testable import WatchFolderStatus

/// The dashboard in a real browser: headless Chromium (Debian `chromium`) driven over the DevTools protocol by
/// a small Python script (`websocket-client`), while the real engine runs jobs.
@Suite struct StatusDashboardTests {
    /// Where screenshots go: `test-output/status/` at the package root.
    static let outputDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("test-output/status")

    @Test func dashboardShowsJobsAndTheirProgressLiveInChromium() async throws {
        try await withTempDir { dir in
            let plain = try StatusBench(root: dir)
            var config = plain.config
            config.transcode.options.preset = "medium"
            config.transcode.options.thumbnails = 5
            config.transcode.maxAttempts = 1
            let bench = StatusBench(copying: plain, config: config)
            _ = try await bench.clip("first.mp4", seconds: 2)
            _ = try await bench.clip("second.mp4", seconds: 3, size: "1280x720")
            try Data(repeating: 7, count: 4096).write(to: bench.inbox.appendingPathComponent("broken.mp4"))
            let output = Self.outputDirectory
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let driverURL = dir.appendingPathComponent("cdp_driver.py")
            try Self.driver.write(to: driverURL, atomically: true, encoding: .utf8)

            let report: String = try await withStatusServer(bench.server()) { client async throws in
                let url = "http://127.0.0.1:\(client.port)/"
                return try await withScheduler(bench.scheduler()) {
                    try await bench.enqueue("first.mp4")
                    try await bench.enqueue("broken.mp4")
                    let settled = try await eventually {
                        let counts = try await bench.store.counts()
                        return counts[.completed] == 1 && counts[.failed] == 1
                    }
                    #expect(settled)
                    let opened = output.appendingPathComponent("open")
                    try? FileManager.default.removeItem(at: opened)
                    let browser = try RunningProcess("python3", [driverURL.path, url, output.path, "150"])
                    // The page is open, its event stream live, before the job starts (the driver says so).
                    try await waitUntil("the dashboard is open", timeout: 60) { FileManager.default.fileExists(atPath: opened.path) }
                    try await bench.enqueue("second.mp4")
                    let output = await browser.finish(timeout: .seconds(180))
                    if output.isEmpty { Issue.record("the browser driver failed: \(browser.errors)") }
                    return output
                }
            }

            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any], "driver said: \(report)")
            let snapshots = try #require(parsed["snapshots"] as? [[String: Any]])
            let shots = try #require(parsed["screenshots"] as? [String: String])
            #expect(!snapshots.isEmpty)
            #expect(snapshots.allSatisfy { $0["marker"] as? Bool == true }, "the page reloaded: updates must come over SSE")
            func jobs(_ s: [String: Any]) -> [[String: Any]] { s["jobs"] as? [[String: Any]] ?? [] }
            func card(_ s: [String: Any], _ name: String) -> [String: Any]? { jobs(s).first { $0["name"] as? String == name } }

            // The running job appears and its progress moves on the same page.
            let running = snapshots.compactMap { card($0, "second.mp4") }.filter { $0["state"] as? String == "running" }
            let percents = Set(running.compactMap { $0["pct"] as? String })
            #expect(percents.count >= 2, "progress seen: \(percents)")
            #expect(running.contains { ($0["live"] as? String)?.contains("ETA") == true }, "no ETA shown")
            #expect(running.contains { ($0["live"] as? String)?.contains("speed") == true }, "no speed shown")
            #expect(snapshots.contains { $0["conn"] as? String == "live" })

            // Then it completes, live: poster, thumbnails, renditions, master URL; the failed job has its reason and Retry.
            let last = try #require(snapshots.last { $0["phone"] == nil && $0["retryFocused"] == nil })
            let second = try #require(card(last, "second.mp4"), "\(last)")
            #expect(second["state"] as? String == "completed")
            #expect(second["poster"] as? Bool == true)
            #expect((second["thumbs"] as? Int ?? 0) == 5)
            #expect((second["renditions"] as? [String] ?? []).contains { $0.hasPrefix("720p") })
            #expect((second["master"] as? String)?.hasSuffix("master.m3u8") == true)
            #expect((second["buttons"] as? [String] ?? []).contains("Copy"))
            let broken = try #require(card(last, "broken.mp4"))
            #expect(broken["state"] as? String == "failed")
            #expect((broken["reason"] as? String ?? "").isEmpty == false)
            #expect((broken["buttons"] as? [String] ?? []).contains("Retry"))
            let counters = last["counters"] as? [String: Int] ?? [:]
            #expect(counters["completed"] == 2 && counters["failed"] == 1 && counters["running"] == 0, "\(counters)")

            // The nodes panel: this scheduler's node, up, named as the host is.
            let nodes = last["nodes"] as? [[String: Any]] ?? []
            #expect(nodes.count == 1 && nodes.first?["state"] as? String == "up", "\(nodes)")
            #expect((nodes.first?["text"] as? String ?? "").hasPrefix(NodeIdentity.hostName), "\(nodes)")
            // Accessible names everywhere; no sideways scrolling on a phone.
            #expect((last["unlabelled"] as? [String] ?? ["?"]).isEmpty, "\(last["unlabelled"] ?? "")")
            let phone = try #require(snapshots.last { $0["phone"] as? Bool == true })
            #expect(phone["overflow"] as? Bool == false)

            // Retry by keyboard on the failed job requeued it (job.queued again).
            #expect(snapshots.contains { $0["retryFocused"] as? Bool == true })
            let brokenEvents = try await eventTypes(bench.store, job: 2)
            #expect(brokenEvents.filter { $0 == "job.queued" }.count == 2, "\(brokenEvents)")

            for key in ["running", "done", "phone"] {
                let path = try #require(shots[key], "no \(key) screenshot")
                let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                #expect(size > 10_000, "\(path) is \(size) bytes")
            }
        }
    }

    /// The DevTools driver (Python 3 + `websocket-client`).
    /// Starts headless Chromium and connects to it over the DevTools protocol (`call`, `evaluate`, `screenshot`);
    /// a driver continues inside its `try:` and ends with the `finally:` of ``driverEnd``.
    static let cdpPrelude = #"""
import json, os, subprocess, sys, tempfile, time, urllib.request, base64, shutil
import websocket

url, outdir, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
profile = tempfile.mkdtemp(prefix="wf-chromium-")
browser = shutil.which("chromium") or shutil.which("chromium-browser")
proc = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1200,900",
                         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        if time.time() > deadline: raise SystemExit("chromium did not start")
        time.sleep(0.1)
    port = open(port_file).read().split()[0]
    pages = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port))
    ws = websocket.create_connection([p for p in pages if p["type"] == "page"][0]["webSocketDebuggerUrl"], timeout=30)
    seq = [0]
    def call(method, **params):
        seq[0] += 1
        ws.send(json.dumps({"id": seq[0], "method": method, "params": params}))
        while True:
            msg = json.loads(ws.recv())
            if msg.get("id") == seq[0]:
                if "error" in msg: raise SystemExit("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
    def evaluate(expression):
        return call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")
    def screenshot(name):
        path = os.path.join(outdir, name)
        with open(path, "wb") as f: f.write(base64.b64decode(call("Page.captureScreenshot", format="png")["data"]))
        return path
"""#

    static let driverEnd = #"""
finally:
    proc.terminate()
    try: proc.wait(10)
    except Exception: proc.kill()
    shutil.rmtree(profile, ignore_errors=True)
"""#

    /// Loads the dashboard once, samples its DOM while a job runs (no reloads: updates must arrive over SSE), takes
    /// screenshots, and prints what it saw as JSON.
    static let driver = cdpPrelude + "\n" + #"""

    SNAPSHOT = """(() => ({
      marker: window.__wfMarker === 1,
      conn: (document.getElementById('conn') || {}).textContent,
      counters: Object.fromEntries([...document.querySelectorAll('#counters li')].map(li => [li.id.replace('count-',''), +li.querySelector('b').textContent])),
      nodes: [...document.querySelectorAll('#nodes li.node')].map(li => ({state: li.dataset.state, text: li.textContent})),
      jobs: [...document.querySelectorAll('li.job')].map(li => ({
        id: +li.id.replace('job-',''), state: li.dataset.state, name: li.querySelector('.name').textContent,
        pct: (li.querySelector('.pct') || {}).textContent || null, live: (li.querySelector('.live') || {}).textContent || null,
        progress: li.querySelector('progress') ? +li.querySelector('progress').value : null,
        poster: !!li.querySelector('img.poster'), thumbs: li.querySelectorAll('.thumbs img').length,
        renditions: [...li.querySelectorAll('.renditions li')].map(r => r.textContent),
        master: (li.querySelector('.url input') || {}).value || null,
        reason: (li.querySelector('.reason') || {}).textContent || null,
        buttons: [...li.querySelectorAll('button')].map(b => b.textContent)})),
      unlabelled: [...document.querySelectorAll('button, input, progress, img')].filter(e =>
        !(e.getAttribute('aria-label') || e.getAttribute('alt') || (e.tagName === 'BUTTON' && e.textContent.trim()) ||
          (e.id && document.querySelector('label[for="' + e.id + '"]')))).map(e => e.outerHTML.slice(0, 80)),
      overflow: document.documentElement.scrollWidth > window.innerWidth + 1 ||
        [...document.querySelectorAll('li.job, li.job *')].some(e => e.getBoundingClientRect().right > window.innerWidth + 1 &&
          !e.closest('.thumbs'))
    }))()"""

    call("Page.enable"); call("Runtime.enable")
    call("Page.navigate", url=url)
    open_by = time.time() + 60
    while evaluate("(document.getElementById('conn') || {}).textContent") != "live" and time.time() < open_by:
        time.sleep(0.05)
    evaluate("window.__wfMarker = 1")
    open(os.path.join(outdir, "open"), "w").close()
    snapshots, shots = [], {}
    seen_progress = {}
    end = time.time() + timeout
    while time.time() < end:
        snap = evaluate(SNAPSHOT); snap["t"] = time.time(); snapshots.append(snap)
        for job in snap["jobs"]:
            if job["state"] == "running" and job["pct"]:
                seen_progress.setdefault(job["id"], set()).add(job["pct"])
        if "running" not in shots and any(len(v) >= 2 for v in seen_progress.values()):
            shots["running"] = screenshot("dashboard.png")
        if "running" in shots and snap["jobs"] and all(j["state"] in ("completed", "failed", "cancelled") for j in snap["jobs"]):
            shots["done"] = screenshot("dashboard-done.png")
            call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=1, mobile=True)
            time.sleep(0.5)
            phone = evaluate(SNAPSHOT); phone["t"] = time.time(); phone["phone"] = True; snapshots.append(phone)
            shots["phone"] = screenshot("dashboard-phone.png")
            call("Emulation.clearDeviceMetricsOverride")
            # Keyboard: focus the failed job's Retry button and press Enter.
            focused = evaluate("""(() => { const card = [...document.querySelectorAll('li.job')].find(li => li.dataset.state === 'failed');
              const b = card && [...card.querySelectorAll('button')].find(b => b.textContent === 'Retry'); if (!b) return false;
              b.focus(); return document.activeElement === b; })()""")
            if focused:
                for kind in ("keyDown", "keyUp"):
                    call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13,
                         nativeVirtualKeyCode=13, **({"text": "\r"} if kind == "keyDown" else {}))
            snapshots.append({"retryFocused": bool(focused), "t": time.time(), "marker": True, "jobs": []})
            time.sleep(1.5)
            break
        time.sleep(0.2)
    print(json.dumps({"snapshots": snapshots, "screenshots": shots}))
"""# + "\n" + driverEnd

    /// Loads the dashboard and prints each new text of its connection status, one per line, for `timeout` seconds.
    static let connectionWatcher = cdpPrelude + "\n" + #"""
    call("Page.enable"); call("Runtime.enable")
    call("Page.navigate", url=url)
    seen, end = None, time.time() + timeout
    while time.time() < end:
        conn = evaluate("(document.getElementById('conn') || {}).textContent || ''")
        if conn != seen:
            print(conn, flush=True)
            seen = conn
        time.sleep(0.1)
"""# + "\n" + driverEnd

    /// Past `[http] max_event_streams` the event stream is refused (503), which ends a browser's EventSource for
    /// good: the dashboard says so and connects again by itself once there is room.
    @Test func dashboardConnectsAgainWhenTheServerHadNoRoomForItsStream() async throws {
        try await withTempDir { dir in
            var bench = try StatusBench(root: dir)
            bench.config.http.maxEventStreams = 1
            let driverURL = dir.appendingPathComponent("cdp_watch.py")
            try Self.connectionWatcher.write(to: driverURL, atomically: true, encoding: .utf8)
            try await withStatusServer(bench.server()) { client async throws in
                var holder: RawSocket? = try await offPool { try RawSocket(port: client.port) }
                try holder?.send("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:\(client.port)\r\n\r\n")
                try await waitUntil("the only stream is taken", timeout: 20) { holder?.text.contains("retry: 2000") == true }
                let browser = try RunningProcess("python3", [driverURL.path, "http://127.0.0.1:\(client.port)/", dir.path, "60"])
                #expect(await browser.waitFor("offline, retrying…", timeout: .seconds(30)), "\(browser.output) \(browser.errors)")
                holder = nil  // the stream ends: there is room
                #expect(await browser.waitFor("live\n", timeout: .seconds(30)), "\(browser.output) \(browser.errors)")
                await browser.finish(timeout: .zero)
            }
        }
    }
}
