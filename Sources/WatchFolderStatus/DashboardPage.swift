import Foundation
import Hummingbird

/// The embedded dashboard (`GET /`) and its login form: one HTML page with inline CSS and JS, no CDN, no build
/// step. The page lists jobs from `/api/jobs`, keeps them live over `/api/events` (EventSource) and acts through
/// the API (retry, cancel).
enum DashboardPage {
    static func dashboard(loginEnabled: Bool) -> Response {
        html(page.replacingOccurrences(of: "{{LOGOUT}}", with: loginEnabled ? logoutForm : ""), status: .ok)
    }

    static func login(error: String?, status: HTTPResponse.Status) -> Response {
        let message = error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? ""
        return html(loginPage.replacingOccurrences(of: "{{ERROR}}", with: message), status: status)
    }

    private static func html(_ body: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' https: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
            .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "no-referrer",
        ], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static let logoutForm = #"<form method="post" action="/logout"><button type="submit" class="link">Sign out</button></form>"#

    static let style = """
        :root{--bg:#f6f7f9;--card:#fff;--fg:#1a1d21;--muted:#4a5260;--line:#d5d9e0;--accent:#0b57d0;--ok:#146c2e;--bad:#b3261e;--warn:#8a5300}
        @media (prefers-color-scheme:dark){:root{--bg:#121417;--card:#1c1f24;--fg:#eef0f3;--muted:#b4bcc8;--line:#353a42;--accent:#8ab4f8;--ok:#7bd88f;--bad:#ffb4ab;--warn:#f5c26b}}
        *{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;background:var(--bg);color:var(--fg)}
        header{padding:12px 16px;border-bottom:1px solid var(--line);background:var(--card);display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
        h1{font-size:1.25rem;margin:0 auto 0 0}h2{font-size:1.05rem;margin:18px 0 8px}
        main{max-width:1100px;margin:0 auto;padding:8px 16px 32px}
        .counters{display:flex;flex-wrap:wrap;gap:8px;margin:0;padding:0;list-style:none}
        .counters li{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:4px 10px;min-width:84px}
        .counters b{display:block;font-size:1.2rem}.counters span{color:var(--muted);font-size:.85rem}
        #conn{font-size:.85rem;color:var(--muted)}
        ul.jobs{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:minmax(0,1fr);gap:10px}
        .job,.node{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px;min-width:0;overflow-wrap:anywhere}
        .row{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:baseline}
        .name{font-weight:600;word-break:break-all;margin-right:auto}
        .state{font-size:.8rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em;padding:2px 8px;border-radius:99px;border:1px solid currentColor}
        .s-completed{color:var(--ok)}.s-failed,.s-cancelled{color:var(--bad)}.s-running,.s-publishing{color:var(--accent)}.s-queued{color:var(--warn)}
        .meta{color:var(--muted);font-size:.9rem}
        progress{width:100%;height:14px;margin:8px 0 2px;accent-color:var(--accent)}
        .media{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px;align-items:flex-start}
        .poster{width:160px;max-width:40vw;border-radius:6px;border:1px solid var(--line)}
        .thumbs{display:flex;gap:4px;overflow-x:auto;max-width:100%;min-width:0;flex:1 1 200px}.thumbs img{height:54px;border-radius:4px;border:1px solid var(--line)}
        .renditions{margin:6px 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:6px}.renditions li{font-size:.85rem;border:1px solid var(--line);border-radius:6px;padding:1px 6px}
        .tracks{display:flex;flex-wrap:wrap;gap:6px;align-items:baseline;margin-top:6px}.tracks .kind{color:var(--muted);font-size:.85rem}
        .tracks ul{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:6px}.tracks li{font-size:.85rem;border:1px solid var(--line);border-radius:6px;padding:1px 6px}.tracks li.default{font-weight:600}
        .preview{position:relative;width:160px;max-width:40vw;display:flex;flex-direction:column;gap:4px}.preview .poster{width:100%;max-width:none}
        .scrub{width:100%;margin:0;accent-color:var(--accent);cursor:col-resize}
        .tile{position:absolute;left:0;top:0;display:none;max-width:100%;border:1px solid var(--line);border-radius:6px;background-repeat:no-repeat;box-shadow:0 2px 8px #0008;pointer-events:none;z-index:1}
        .tile span{position:absolute;left:0;bottom:0;background:#000b;color:#fff;font-size:.8rem;padding:0 5px;border-radius:0 4px 0 0}
        .url{display:flex;gap:6px;margin-top:8px;width:100%}.url input{flex:1;min-width:0;font:inherit;font-size:.85rem;padding:6px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
        button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
        @media (prefers-color-scheme:dark){button{color:#0b1a33}}
        button.secondary{background:transparent;color:var(--accent)}button.link{background:none;border:none;color:var(--accent);padding:4px;text-decoration:underline}
        button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
        .reason{color:var(--bad);margin:6px 0;word-break:break-word}
        .empty{color:var(--muted)}.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--card);padding:6px}
        """

    static let page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>watchfolder</title><style>\(style)</style></head>
        <body><a class="skip" href="#main">Skip to jobs</a>
        <header><h1>watchfolder</h1>
        <ul class="counters" aria-label="Jobs by state" id="counters"></ul>
        <span id="conn" role="status" aria-live="polite">connecting…</span>{{LOGOUT}}</header>
        <main id="main">
        <section aria-labelledby="h-running"><h2 id="h-running">Running</h2><ul class="jobs" id="running"></ul></section>
        <section aria-labelledby="h-next"><h2 id="h-next">Next</h2><ul class="jobs" id="next"></ul></section>
        <section aria-labelledby="h-failed"><h2 id="h-failed">Failed recently</h2><ul class="jobs" id="failed"></ul></section>
        <section aria-labelledby="h-done"><h2 id="h-done">Completed recently</h2><ul class="jobs" id="done"></ul></section>
        <section aria-labelledby="h-nodes"><h2 id="h-nodes">Nodes</h2><ul class="jobs" id="nodes"></ul></section>
        </main>
        <script>
        \(script)
        </script></body></html>
        """

    static let script = #"""
        "use strict";
        const $ = (tag, attrs = {}, ...kids) => { const e = document.createElement(tag);
          for (const [k, v] of Object.entries(attrs)) { if (v == null) continue; if (k === "text") e.textContent = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v); }
          for (const k of kids) if (k) e.append(k); return e; };
        const STATES = ["queued", "running", "publishing", "completed", "failed", "cancelled"];
        const pct = p => Math.round((p || 0) * 100) + "%";
        const dur = s => { if (s == null) return ""; if (s < 10) return s.toFixed(1) + " s"; s = Math.round(s); const m = Math.floor(s / 60); return m ? m + " min " + (s % 60) + " s" : s + " s"; };
        const name = s => s.split("/").pop();
        let reloadTimer = null;

        async function api(path, options) {
          const r = await fetch(path, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, options));
          if (r.status === 401) { location.reload(); throw new Error("signed out"); }
          const body = await r.json().catch(() => ({}));
          if (!r.ok) throw new Error(body.error || r.statusText);
          return body;
        }

        function liveText(job) {
          const parts = [];
          if (job.speed != null) parts.push("speed " + job.speed.toFixed(2) + "×");
          if (job.eta_seconds != null) parts.push("ETA " + dur(job.eta_seconds));
          return parts.join(" · ");
        }

        function card(job) {
          const li = $("li", { class: "job", id: "job-" + job.id, "data-state": job.state, "aria-labelledby": "name-" + job.id });
          li.append($("div", { class: "row" },
            $("span", { class: "name", id: "name-" + job.id, title: job.source, text: job.source }),
            $("span", { class: "state s-" + job.state, text: job.state }),
            $("span", { class: "meta", text: "#" + job.id + (job.attempts ? " · attempt " + job.attempts : "") + (job.encoder ? " · " + job.encoder : "") + (job.node ? " · on " + job.node : "") })));
          if (job.state === "running" || job.state === "publishing") {
            li.append($("progress", { id: "progress-" + job.id, max: "100", value: String(Math.round(job.progress * 100)), "aria-label": "Progress of " + name(job.source) }));
            li.append($("div", { class: "row meta" }, $("span", { class: "pct", id: "pct-" + job.id, text: pct(job.progress) }),
              $("span", { class: "live", id: "live-" + job.id, text: liveText(job) })));
          }
          if (job.state === "queued" && job.error) li.append($("p", { class: "meta", text: "retrying after: " + job.error }));
          if (job.state === "failed" || job.state === "cancelled") {
            li.append($("p", { class: "reason", text: job.error || job.state }));
            li.append($("button", { type: "button", "aria-label": "Retry " + name(job.source), onclick: () => act(job, "retry") }, "Retry"));
          }
          if (["queued", "running", "publishing"].includes(job.state) && !job.cancel_requested)
            li.append($("button", { type: "button", class: "secondary", "aria-label": "Cancel " + name(job.source), onclick: () => act(job, "cancel") }, "Cancel"));
          if (job.state === "completed") {
            const media = $("div", { class: "media" });
            if (job.poster || job.storyboard) media.append(preview(job));
            if (job.thumbnails && job.thumbnails.length) {
              const strip = $("div", { class: "thumbs", role: "group", "aria-label": "Thumbnails of " + name(job.source) });
              job.thumbnails.forEach((t, i) => strip.append($("img", { src: t, alt: "Thumbnail " + (i + 1), loading: "lazy" })));
              media.append(strip);
            }
            li.append(media);
            if (job.renditions && job.renditions.length) {
              const list = $("ul", { class: "renditions", "aria-label": "Renditions" });
              job.renditions.forEach(r => list.append($("li", { text: r.name + (r.width ? " " + r.width + "×" + r.height : "") + (r.bitrate ? " · " + Math.round(r.bitrate / 1000) + " kb/s" : "") })));
              li.append(list);
            }
            if (job.audio && job.audio.length) li.append(tracks("Audio", "Audio languages", job.audio));
            if (job.subtitles && job.subtitles.length) li.append(tracks("Subtitles", "Subtitle tracks", job.subtitles));
            const t = job.timings || {};
            li.append($("p", { class: "meta", text: [t.duration_seconds != null ? "took " + dur(t.duration_seconds) : "", job.speed ? job.speed.toFixed(2) + "× realtime" : "", t.finished_at ? "finished " + new Date(t.finished_at).toLocaleString() : ""].filter(Boolean).join(" · ") }));
            const master = job.master_url || job.master;
            if (master) {
              const input = $("input", { type: "text", readonly: "", value: master, id: "master-" + job.id, "aria-label": "Master playlist of " + name(job.source) });
              li.append($("div", { class: "url" }, input, $("button", { type: "button", class: "secondary", "aria-label": "Copy master URL of " + name(job.source), onclick: e => copy(input, e.target) }, "Copy")));
            }
          }
          return li;
        }

        // Audio languages or subtitle tracks: NAME (language), the default one marked. Names are a stranger's text:
        // they only ever go in as textContent.
        function tracks(kind, label, list) {
          const ul = $("ul", { "aria-label": label });
          for (const t of list)
            ul.append($("li", { class: t.default ? "default" : null, text: (t.name || t.language || "?") + (t.language && t.language !== t.name ? " (" + t.language + ")" : "") + (t.default ? " · default" : "") }));
          return $("div", { class: "tracks" }, $("span", { class: "kind", text: kind }), ul);
        }

        // storyboard.vtt: cues "start --> end" then "sheet.jpg#xywh=x,y,w,h" (sheet relative to the VTT). Only
        // http(s) sheets of the VTT's own origin are kept.
        function parseVTT(text, base) {
          const origin = new URL(base).origin, cues = [];
          const secs = s => s.split(":").reduce((a, v) => a * 60 + Number(v), 0);
          const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
          for (let i = 0; i + 1 < lines.length; i++) {
            const m = /^\s*((?:\d+:)?\d{1,2}:\d{2}(?:\.\d+)?)\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}(?:\.\d+)?)/.exec(lines[i]);
            if (!m) continue;
            const ref = lines[i + 1].trim(), hash = ref.lastIndexOf("#xywh=");
            if (hash < 0) continue;
            const [x, y, w, h] = ref.slice(hash + 6).split(",").map(Number);
            if (![x, y, w, h].every(n => Number.isFinite(n) && n >= 0) || !w || !h) continue;
            let url; try { url = new URL(ref.slice(0, hash), base); } catch { continue; }
            if (!["http:", "https:"].includes(url.protocol) || url.origin !== origin) continue;
            cues.push({ start: secs(m[1]), end: secs(m[2]), url: url.href, x, y, w, h });
          }
          return cues.sort((a, b) => a.start - b.start);
        }
        // The cue shown at `t` seconds: the last that starts at or before it (the first before any).
        function tileAt(cues, t) {
          let found = cues[0] || null;
          for (const c of cues) { if (c.start <= t) found = c; else break; }
          return found;
        }
        const clock = s => { s = Math.max(0, Math.floor(s)); const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = String(s % 60).padStart(2, "0"); return h ? h + ":" + String(m).padStart(2, "0") + ":" + r : m + ":" + r; };
        const storyboards = new Map();  // VTT URL -> promise of its cues: fetched once per page
        function cuesOf(url) {
          const href = new URL(url, location.href).href;
          if (!storyboards.has(href))
            storyboards.set(href, fetch(href, { credentials: "same-origin" }).then(r => r.ok ? r.text() : "").then(t => parseVTT(t, href)).catch(() => []));
          return storyboards.get(href);
        }
        window.wfStoryboard = { parseVTT, tileAt, clock };

        // The poster, and under it a scrub bar: pointing at the poster or the bar (or moving the bar with the
        // keyboard) shows the storyboard tile for that time, with the time.
        function preview(job) {
          const wrap = $("div", { class: "preview" });
          if (job.poster) wrap.append($("img", { class: "poster", src: job.poster, alt: "Poster of " + name(job.source), loading: "lazy" }));
          if (!job.storyboard || !job.storyboard.vtt) return wrap;
          const label = $("span"), tile = $("div", { class: "tile", "aria-hidden": "true" }, label);
          const scrub = $("input", { type: "range", class: "scrub", min: "0", max: "1000", value: "0", "aria-label": "Storyboard of " + name(job.source) });
          wrap.append(tile, scrub);
          let active = false, shown = 0;
          const show = async fraction => {
            const turn = ++shown, cues = await cuesOf(job.storyboard.vtt);
            if (!active || turn !== shown || !cues.length) return;
            const t = fraction * cues[cues.length - 1].end, c = tileAt(cues, t);
            Object.assign(tile.style, { width: c.w + "px", height: c.h + "px", backgroundImage: 'url("' + c.url + '")', backgroundPosition: -c.x + "px " + -c.y + "px", display: "block" });
            tile.dataset.time = String(t);
            label.textContent = clock(t);
          };
          const hide = () => { active = false; tile.style.display = "none"; };
          wrap.addEventListener("pointermove", e => {
            active = true;
            const r = wrap.getBoundingClientRect(), f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
            scrub.value = String(Math.round(f * 1000));
            show(f);
          });
          wrap.addEventListener("pointerleave", hide);
          scrub.addEventListener("input", () => { active = true; show(scrub.value / 1000); });
          scrub.addEventListener("blur", hide);
          return wrap;
        }

        async function copy(input, button) {
          try { await navigator.clipboard.writeText(input.value); } catch { input.select(); document.execCommand("copy"); }
          button.textContent = "Copied"; setTimeout(() => button.textContent = "Copy", 1500);
        }

        async function act(job, verb) {
          try { await api("/api/jobs/" + job.id + "/" + verb, { method: "POST" }); } catch (e) { alert(verb + " failed: " + e.message); }
          reload();
        }

        function render(health, view) {
          const counters = document.getElementById("counters");
          counters.replaceChildren(...STATES.map(s => $("li", { id: "count-" + s }, $("b", { text: String(health.jobs[s] || 0) }), $("span", { text: s }))));
          const groups = { running: view.running, next: view.next, failed: view.failed, done: view.completed };
          for (const [id, list] of Object.entries(groups)) {
            const items = list.length ? list.map(card) : [$("li", { class: "empty", text: "None." })];
            if (id === "next" && view.more_queued > 0) items.push($("li", { class: "empty", id: "more-queued", text: "and " + view.more_queued + " more" }));
            document.getElementById(id).replaceChildren(...items);
          }
          const nodes = (view.nodes || []).map(n => $("li", { class: "node", "data-state": n.state },
            $("div", { class: "row" }, $("span", { class: "name", text: n.name }), $("span", { class: "state s-" + (n.state === "up" ? "running" : "cancelled"), text: n.state }),
              $("span", { class: "meta", text: (n.running.length ? "running " + n.running.map(id => "#" + id).join(", ") : "idle") + (n.encoder ? " · " + n.encoder : "") + " · " + n.version + " · heartbeat " + n.heartbeat_at }))));
          document.getElementById("nodes").replaceChildren(...(nodes.length ? nodes : [$("li", { class: "empty", text: "None." })]));
        }

        async function reload() {
          clearTimeout(reloadTimer); reloadTimer = null;
          try { const [health, page] = await Promise.all([api("/api/health"), api("/api/dashboard")]); render(health, page); }
          catch (e) { document.getElementById("conn").textContent = "error: " + e.message; }
        }
        const soon = () => { if (!reloadTimer) reloadTimer = setTimeout(reload, 250); };

        function progress(p) {
          const bar = document.getElementById("progress-" + p.id);
          if (!bar) return soon();
          bar.value = Math.round(p.progress * 100);
          document.getElementById("pct-" + p.id).textContent = pct(p.progress);
          document.getElementById("live-" + p.id).textContent = liveText(p);
        }

        function connect() {
          const source = new EventSource("/api/events");
          const conn = document.getElementById("conn");
          source.onopen = () => { conn.textContent = "live"; };
          source.onerror = () => {
            if (source.readyState !== EventSource.CLOSED) { conn.textContent = "reconnecting…"; return; }
            // Refused (503: max_event_streams reached, or the server restarting): try again in 10 s.
            conn.textContent = "offline, retrying…";
            setTimeout(() => reload().catch(() => {}).then(connect), 10000);
          };
          for (const type of ["job.queued", "job.started", "job.progress", "job.retrying", "job.completed", "job.failed", "job.cancelled"])
            source.addEventListener(type, soon);
          source.addEventListener("progress", e => progress(JSON.parse(e.data)));
        }

        reload().then(connect);
        """#

    static let loginPage = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>watchfolder · sign in</title><style>\(style)
        form.login{max-width:360px;margin:15vh auto;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px;display:grid;gap:10px}
        .error{color:var(--bad);margin:0}</style></head>
        <body><main><form class="login" method="post" action="/login">
        <h1>watchfolder</h1>{{ERROR}}
        <label for="token">Access token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus
          style="font:inherit;padding:8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)">
        <button type="submit">Sign in</button>
        <p class="meta">The token is <code>[http] token</code> in the daemon's config (or <code>WATCHFOLDER_HTTP_TOKEN</code>).</p>
        </form></main></body></html>
        """
}
