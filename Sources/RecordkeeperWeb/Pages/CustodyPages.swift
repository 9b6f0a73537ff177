import Archive
import Custody
import Foundation
import RecordkeeperCore

/// Custody pages: the index, the scan station and the report tables.
extension WebApp {
    func custodyIndexPage(_ p: Principal, locations: [StoredLocation], alerts: [CustodyAlert], alertsAsOf: Int64) -> HTML {
        let asOf = Timestamp.iso(millis: alertsAsOf)
        let banner: HTML = alerts.isEmpty ? "<p>No alerts as of <time datetime=\"\(asOf)\">\(asOf)</time>.</p>" : """
            <section class="alerts" aria-labelledby="alerts-h"><h2 id="alerts-h">Alerts (\(alerts.count))</h2>
            <p class="hint">As of <time datetime="\(asOf)">\(asOf)</time> (computed at most once every 15 seconds; reload for newer).</p><ul>\(alerts.prefix(50).html { a in
                "<li class=\"alert-\(a.severity)\"><strong>\(a.severity.uppercased())</strong> for \(a.audience): \(a.message)</li>"
            })</ul>\(alerts.count > 50 ? "<p>\(Fmt.count(alerts.count - 50)) more: <a href=\"/api/v1/custody/alerts\">all alerts (JSON)</a>.</p>" : "")</section>
            """
        let modes: [(String, String)] = [("receive", "Receive"), ("move", "Move"), ("inspect", "Inspect (officers)"), ("audit", "Cycle count (audit)"),
                                         ("return", "Return to carrier")]
        let scanning: HTML = Self.custodyScanners.allows(p.user)
            ? "<h2>Scan station</h2><ul>\(modes.html { m in "<li><a href=\"/custody/scan?mode=\(m.0)\">\(m.1)</a></li>" })</ul>"
            : .empty
        let reports: HTML = Self.custodyReporters.allows(p.user)
            ? """
              <h2>Reports</h2><ul>\(CustodyReportID.allCases.html { r in
                  let q = r.isDaily ? "day=\(String(Timestamp.iso(millis: Timestamp.nowMillis()).prefix(10)))"
                                    : "from=\(String(Timestamp.iso(millis: Timestamp.nowMillis() - 7 * 86_400_000).prefix(10)))"
                  return "<li><a href=\"/custody/reports/\(r.rawValue)?\(q)\">\(r.title)</a></li>"
              })</ul>
              """
            : .empty
        let rows = locations.html { l in
            "<tr><td>\(l.code)</td><td>\(l.name)</td><td>\(l.kind)</td><td>\(l.secured ? "yes" : "no")</td><td>\(l.alarmed ? "yes" : "no")</td><td>\(l.cctvCovered ? "yes" : "no")</td></tr>"
        }
        return pages.page("Custody", principal: p, current: "/custody", """
            \(banner)\(scanning)\(reports)
            <h2>Locations</h2>
            <table><thead><tr><th scope="col">Code</th><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Locked</th><th scope="col">Alarmed</th><th scope="col">Cameras</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            <p>Register locations with <code>recordkeeper custody location add</code>.</p>
            """)
    }

    /// One page per mode; the station's location and id come from the address (a supervisor
    /// bookmarks it per station). The script queues scans in the browser while the server is
    /// unreachable and sends them again with the same ids.
    func scanStationPage(_ p: Principal, query: Form, locations: [StoredLocation]) -> HTML {
        let modes = ["receive": "RECEIVE", "move": "MOVE", "inspect": "INSPECT", "audit": "AUDIT", "return": "RETURN"]
        let mode = modes[query["mode"] ?? ""] != nil ? query["mode"]! : "receive"
        let preferred = ["receive": "receiving", "return": "return_dock", "inspect": "exam_station"][mode]
        let location = query["location"] ?? locations.first { l in preferred.map { l.kind == $0 } ?? true }?.code ?? locations.first?.code ?? ""
        let method = InspectionService.Method(rawValue: query["method"] ?? "") ?? .xray
        let methodOptions = InspectionService.Method.allCases.filter { $0 != .lab }.html { m in
            m == method ? "<option value=\"\(m.rawValue)\" selected>\(m.rawValue)</option>" : "<option value=\"\(m.rawValue)\">\(m.rawValue)</option>"
        }
        let resultOptions = InspectionService.Result.allCases.html { r in
            r == .noAnomaly ? "<option value=\"\(r.rawValue)\" selected>\(r.rawValue)</option>" : "<option value=\"\(r.rawValue)\">\(r.rawValue)</option>"
        }
        let inspecting: HTML = mode == "inspect" ? """
            <p class="inspect-result"><label for="result">Result when the next scan ends an inspection</label> <select id="result">\(resultOptions)</select>
            <label for="found">What was found</label> <input id="found" maxlength="500" autocomplete="off"></p>
            <p class="hint">The first scan of an item starts its inspection; the next scan of the same item ends it with the result above (what was found is required unless no anomaly).</p>
            """ : .empty
        let station = query["station"] ?? "web"
        let container = query["container"].flatMap { Int64($0) }
        let carrier = query["carrier"] ?? "USPS"
        let options = locations.filter { $0.kind != "seized_property" && $0.kind != "lab" }.html { l in
            l.code == location ? "<option value=\"\(l.code)\" selected>\(l.code) — \(l.name)</option>" : "<option value=\"\(l.code)\">\(l.code) — \(l.name)</option>"
        }
        let modeOptions = ["receive", "move", "inspect", "audit", "return"].html { m in
            m == mode ? "<option value=\"\(m)\" selected>\(modes[m]!)</option>" : "<option value=\"\(m)\">\(modes[m]!)</option>"
        }
        let what: HTML = switch mode {
        case "move": "MOVE to \(location)"
        case "audit": "AUDIT (cycle count) at \(location)"
        case "inspect": "INSPECT (\(method.rawValue)) at \(location)"
        case "return": container.map { "RETURN to \(carrier), return batch \($0)" } ?? "RETURN to \(carrier)"
        default: container.map { "RECEIVE at \(location), container \($0)" } ?? "RECEIVE at \(location)"
        }
        return pages.page("Scan station", principal: p, current: "/custody", """
            <section class="scan-station" data-scan-station data-mode="\(mode)" data-location="\(location)" data-station="\(station)"
                data-container="\(container.map(String.init) ?? "")" data-carrier="\(carrier)" data-method="\(method.rawValue)" data-csrf="\(p.csrf ?? "")" data-user="\(p.user.name)">
            <form id="scan-form" class="scan-form" autocomplete="off">
            <label for="scan">Scan: \(what)</label>
            <input id="scan" name="scan" autofocus spellcheck="false" autocapitalize="characters" autocomplete="off" aria-describedby="scan-help">
            <p id="scan-help" class="hint">Scan the barcode, or type the 13-character S10 identifier and press Enter (typed entries are marked as typed).</p>
            </form>
            \(inspecting)
            <p id="scan-status" class="scan-status" role="status" aria-live="polite">Ready.</p>
            <ol id="scan-results" class="scan-results" aria-label="Scans, newest first"></ol>
            <noscript><p class="notice">The scan station needs JavaScript. Without it, record scans with <code>recordkeeper custody receive</code>.</p></noscript>
            </section>
            <details class="scan-setup"><summary>Station set-up</summary>
            <form method="get" action="/custody/scan" class="inline-form">
            <p><label for="mode">Mode</label><select id="mode" name="mode">\(modeOptions)</select></p>
            <p><label for="location">Location</label><select id="location" name="location">\(options)</select></p>
            <p><label for="station">Station</label><input id="station" name="station" value="\(station)"></p>
            <p><label for="container">Container (receive) or return batch (return)</label><input id="container" name="container" inputmode="numeric" value="\(container.map(String.init) ?? "")"></p>
            <p><label for="carrier">Carrier (return)</label><input id="carrier" name="carrier" value="\(carrier)"></p>
            <p><label for="method">Method (inspect)</label><select id="method" name="method">\(methodOptions)</select></p>
            <p><button type="submit">Set up</button></p>
            </form></details>
            <script src="/static/scan.js" defer></script>
            """)
    }

    func custodyReportPage(_ p: Principal, request: CustodyReportRequest, table: ReportTable, query: String) -> HTML {
        let figures = table.figures.html { f in "<div><dt>\(f.label)</dt><dd>\(f.value)</dd></div>" }
        let head = table.headers.html { h in "<th scope=\"col\">\(h.replacingOccurrences(of: "_", with: " "))</th>" }
        let rows = table.rows.prefix(5_000).html { r in "<tr>\(r.html { c in "<td>\(c)</td>" })</tr>" }
        let more: HTML = table.rows.count > 5_000 ? "<p>The first 5,000 of \(Fmt.count(table.rows.count)) rows; the CSV has them all.</p>" : .empty
        let day = String(Timestamp.iso(millis: request.from).prefix(10))
        let period: HTML = request.id.isDaily
            ? "<p><label for=\"day\">Day (UTC)</label><input id=\"day\" name=\"day\" type=\"date\" value=\"\(day)\"></p>"
            : """
              <p><label for="from">From (UTC, inclusive)</label><input id="from" name="from" type="date" value="\(day)"></p>
              <p><label for="to">To (UTC, exclusive)</label><input id="to" name="to" type="date" value="\(String(Timestamp.iso(millis: request.to).prefix(10)))"></p>
              <p><label for="as_of">As of</label><input id="as_of" name="as_of" value="\(Timestamp.iso(millis: request.asOf))"></p>
              """
        let link = "/api/v1/custody/reports/\(request.id.rawValue)?\(query)"
        return pages.page(table.title, principal: p, current: "/custody", """
            <form method="get" class="inline-form">\(period)<p><button type="submit">Show</button></p></form>
            <dl class="figures">\(figures)</dl>
            <p><a href="\(link)\(query.isEmpty ? "" : "&")format=csv">CSV</a> · <a href="\(link)">JSON</a></p>
            <table><thead><tr>\(head)</tr></thead><tbody>\(rows)</tbody></table>\(more)
            <h2>Definition</h2><p>\(table.definition)</p>
            """)
    }
}

/// The scan station's script. Wedge scanners type the barcode as keystrokes ending in Enter (or
/// Tab); keys a median under `manualGapMs` apart are a scanner, slower ones a person (marked
/// typed). The
/// S10 check digit is checked here first (instant red), and again by the server. Each scan gets
/// an id and waits in a queue in the browser's storage until the server has answered it; a
/// batch sent again after an outage is recorded once.
enum ScanStationScript {
    static let js = #"""
    (function () {
      "use strict";
      var root = document.querySelector("[data-scan-station]");
      if (!root) { return; }
      var cfg = root.dataset;
      var input = document.getElementById("scan");
      var list = document.getElementById("scan-results");
      var status = document.getElementById("scan-status");
      var manualGapMs = 60;
      // One queue per station and user: scans left by one user are never sent under another's session.
      var key = "rk-scan-queue:" + cfg.station + ":" + cfg.user;
      var queue = [];
      try { queue = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { queue = []; }
      var stamps = [];
      var sending = false;
      var offline = false;

      function save() { try { localStorage.setItem(key, JSON.stringify(queue)); } catch (e) { /* storage full: the queue stays in memory */ } }
      function uuid() {
        if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
        var b = new Uint8Array(16); crypto.getRandomValues(b);
        b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
        var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
        return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
      }
      // UPU S10: two letters, eight digits, a check digit, a country code (CUSTODY.md §2).
      function problem(text) {
        if (!/^[A-Z]{2}[0-9]{9}[A-Z]{2}$/.test(text)) { return "S10_FORMAT: not an S10 identifier (2 letters, 9 digits, 2 letters)"; }
        if ("JKSTW".indexOf(text.charAt(0)) >= 0) { return "S10_FORMAT: service indicator " + text.slice(0, 2) + " is reserved"; }
        var w = [8, 6, 4, 2, 3, 5, 9, 7], sum = 0;
        for (var i = 0; i < 8; i++) { sum += w[i] * Number(text.charAt(2 + i)); }
        var c = 11 - (sum % 11); if (c === 10) { c = 0; } if (c === 11) { c = 5; }
        if (c !== Number(text.charAt(10))) { return "S10_CHECK: invalid check digit"; }
        return null;
      }
      function beep(signal) {
        try {
          var ctx = beep.ctx || (beep.ctx = new (window.AudioContext || window.webkitAudioContext)());
          var o = ctx.createOscillator(), g = ctx.createGain();
          o.frequency.value = { green: 880, blue: 660, amber: 440, red: 220 }[signal] || 500;
          g.gain.value = 0.2; o.connect(g); g.connect(ctx.destination);
          o.start(); o.stop(ctx.currentTime + (signal === "red" ? 0.4 : 0.12));
        } catch (e) { /* no sound here */ }
      }
      function row(id) {
        var li = id ? document.getElementById("scan-" + id) : null;
        if (!li) {
          li = document.createElement("li");
          if (id) { li.id = "scan-" + id; }
          list.insertBefore(li, list.firstChild);
          while (list.children.length > 100) { list.removeChild(list.lastChild); }
        }
        return li;
      }
      function show(id, s10, signal, text, typed) {
        var li = row(id);
        li.className = "scan sig-" + signal;
        li.dataset.signal = signal;
        li.textContent = s10 + " — " + text + (typed ? " (typed)" : "");
      }
      function report() {
        status.textContent = offline ? "Server unreachable: " + queue.length + " scan(s) kept on this station, sent when it answers."
          : queue.length ? "Sending " + queue.length + " scan(s)…" : "Ready.";
        status.className = "scan-status" + (offline ? " offline" : "");
      }
      function flush() {
        if (sending || queue.length === 0) { report(); return; }
        sending = true;
        var batch = queue.slice(0, 200);
        fetch("/api/v1/custody/scans", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": cfg.csrf },
          body: JSON.stringify({ station: cfg.station, scans: batch })
        }).then(function (r) {
          if (r.status === 401) { throw new Error("signed out"); }
          if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
            // Refused as a whole (not a network failure): shown red and not sent again.
            return r.json().catch(function () { return {}; }).then(function (b) {
              var why = (b.error && b.error.message) || ("HTTP " + r.status);
              return { results: batch.map(function (s) { return { client_scan_id: s.client_scan_id, s10: s.s10, signal: "red", message: why }; }) };
            });
          }
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        }).then(function (body) {
          var done = {};
          body.results.forEach(function (res) {
            done[res.client_scan_id] = true;
            var typed = batch.some(function (s) { return s.client_scan_id === res.client_scan_id && s.manual_entry; });
            show(res.client_scan_id, res.s10, res.signal, res.message, typed);
            beep(res.signal);
          });
          queue = queue.filter(function (s) { return !done[s.client_scan_id]; });
          save(); offline = false; sending = false; report();
          if (queue.length) { flush(); }
        }).catch(function () {
          sending = false; offline = true; report();
          setTimeout(flush, 2000);
        });
      }
      function submit() {
        var text = input.value.trim().toUpperCase();
        // The median gap decides: a busy station can delay one key of a scan, a person is slow on most.
        var gaps = stamps.slice(1).map(function (t, i) { return t - stamps[i]; }).sort(function (a, b) { return a - b; });
        var typed = gaps.length === 0 || gaps[Math.floor(gaps.length / 2)] > manualGapMs;
        stamps = []; input.value = ""; input.focus();
        if (!text) { return; }
        var bad = problem(text);
        if (bad) { show(null, text, "red", bad, typed); beep("red"); return; }
        var scan = { s10: text, action: cfg.mode, client_scan_id: uuid(), client_ts: Date.now(), manual_entry: typed };
        if (cfg.mode === "return") { scan.carrier = cfg.carrier; } else { scan.location = cfg.location; }
        if (cfg.mode === "inspect") {
          var result = document.getElementById("result"), found = document.getElementById("found");
          scan.method = cfg.method; scan.result = result.value; scan.found = found.value;
          result.value = "no_anomaly"; found.value = "";
        }
        if ((cfg.mode === "receive" || cfg.mode === "return") && cfg.container) { scan.container = Number(cfg.container); }
        queue.push(scan); save();
        show(scan.client_scan_id, text, "pending", "sending…", typed);
        flush();
      }
      input.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); submit(); return; }
        if (e.key.length === 1) { stamps.push(e.timeStamp || performance.now()); }
      });
      document.getElementById("scan-form").addEventListener("submit", function (e) { e.preventDefault(); submit(); });
      // Focus comes back to the scan field unless someone is using another control.
      input.addEventListener("blur", function () {
        setTimeout(function () { if (document.activeElement === document.body) { input.focus(); } }, 50);
      });
      window.addEventListener("online", flush);
      setInterval(flush, 5000);
      input.focus();
      flush();
    })();
    """#
}
