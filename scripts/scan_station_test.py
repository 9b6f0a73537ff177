#!/usr/bin/env python3
"""AT9 of CUSTODY.md §6: the scan station in a real headless Chromium.

Starts `recordkeeper serve` on a fresh archive with a receiver and a receiving dock, opens the
scan station in RECEIVE mode and drives it as a keyboard-wedge scanner does (key events 8 ms
apart, then Enter):

  * 1,000 S10 identifiers at scanner speed: all recorded, none marked typed;
  * 10 typed at 150 ms a key: recorded with manual_entry;
  * one scanned again: an amber "already in custody" answer, nothing recorded;
  * a 60-second network cut during 50 scans: they wait in the station's queue and, after the
    network is back, exactly 50 events exist, none doubled;
  * a bad check digit: red at once, never sent;
  * a batch sent again after a lost answer (same scan ids): answered "repeated", nothing doubled.

Then reads every item's chain back through the API. Exit status: 0 passed; 1 a check failed;
2 no browser (scripts/test.sh treats that as a failure under CI=true).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_test import PASSWORD, Run, find_browser  # noqa: E402

WEIGHTS = [8, 6, 4, 2, 3, 5, 9, 7]


def s10(serial, prefix="LX", country="CN"):
    """A valid UPU S10 identifier for an 8-digit serial."""
    digits = f"{serial:08d}"
    c = 11 - sum(w * int(d) for w, d in zip(WEIGHTS, digits)) % 11
    c = 0 if c == 10 else 5 if c == 11 else c
    return f"{prefix}{digits}{c}{country}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=1000, help="items scanned at scanner speed (AT9: 1,000)")
    ap.add_argument("--outage", type=float, default=60.0, help="seconds the network is cut (AT9: 60)")
    args = ap.parse_args()
    chromium, driver_path = find_browser()
    if not chromium or not driver_path:
        print("no Chromium/chromedriver found (Debian: apt-get install chromium chromium-driver)", file=sys.stderr)
        return 2
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    os.makedirs(args.out, exist_ok=True)
    run = Run(os.path.abspath(args.binary), args.out)
    work = tempfile.mkdtemp(prefix="rk-scan-")
    data = os.path.join(work, "data")
    server = drv = None
    try:
        run.rk("init", "--data-dir", data)
        run.rk("user", "add", "r.receiver", "--role", "receiver", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n")
        run.rk("user", "add", "o.officer", "--role", "custody-officer", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n")
        run.rk("custody", "location", "add", "RCV-1", "--name", "Receiving dock 1", "--kind", "receiving", "--secured", "--alarmed", "--cctv",
               "--data-dir", data)
        run.rk("custody", "location", "add", "EXAM-1", "--name", "X-ray and exam station 1", "--kind", "exam_station", "--secured", "--alarmed", "--cctv",
               "--data-dir", data)
        server = subprocess.Popen([run.binary, "serve", "--data-dir", data, "--port", "0"], stdout=subprocess.PIPE,
                                  stderr=open(os.path.join(work, "server.log"), "w"), text=True)
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", server.stdout.readline())
        if not m:
            raise SystemExit("the server did not start")
        base = m.group(1)

        opts = Options()
        opts.binary_location = chromium
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required"]:
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        drv = webdriver.Chrome(service=Service(driver_path), options=opts)
        drv.set_script_timeout(120)
        wait = WebDriverWait(drv, 120)

        def sign_in(user):
            drv.get(base + "/login")
            drv.find_element(By.ID, "username").send_keys(user)
            drv.find_element(By.ID, "password").send_keys(PASSWORD)
            drv.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            wait.until(lambda d: "/login" not in d.current_url)

        sign_in("r.receiver")
        drv.get(base + "/custody/scan?mode=receive&location=RCV-1&station=AT9")
        scan_field = drv.find_element(By.ID, "scan")
        run.check(drv.switch_to.active_element == scan_field, "the scan field has the focus when the page opens")

        def key_in(texts, gap):
            """Each text as key events `gap` seconds apart, then Enter (one action chain per few items)."""
            for start in range(0, len(texts), 5):
                chain = ActionChains(drv, duration=0)
                for text in texts[start:start + 5]:
                    for ch in text:
                        chain.key_down(ch).key_up(ch).pause(gap)
                    chain.key_down(Keys.ENTER).key_up(Keys.ENTER).pause(gap)
                chain.perform()

        def queue_length(key="rk-scan-queue:AT9:r.receiver"):
            return drv.execute_script("return JSON.parse(localStorage.getItem(arguments[0]) || '[]').length", key)

        def settled(timeout=120, key="rk-scan-queue:AT9:r.receiver"):
            end = time.time() + timeout
            while time.time() < end:
                if queue_length(key) == 0 and not drv.find_elements(By.CSS_SELECTOR, "#scan-results li.sig-pending"):
                    return True
                time.sleep(0.25)
            return False

        def signal_of(text):
            rows = [li for li in drv.find_elements(By.CSS_SELECTOR, "#scan-results li") if li.text.startswith(text + " ")]
            return (rows[0].get_attribute("data-signal"), rows[0].text) if rows else (None, "")

        scanned = [s10(60_000_000 + i) for i in range(args.count)]
        typed = [s10(61_000_000 + i, prefix="EE") for i in range(10)]
        during_outage = [s10(62_000_000 + i, prefix="RR") for i in range(50)]

        started = time.time()
        key_in(scanned, 0.008)
        scanner_seconds = time.time() - started
        run.check(settled(), f"{args.count} scanner-speed scans answered ({scanner_seconds:.0f} s of key events)")
        sig, text = signal_of(scanned[-1])
        run.check(sig == "blue" and "Not targeted" in text, f"an untargeted item is answered blue ({text!r})")

        key_in(typed, 0.150)
        run.check(settled(), "10 typed entries answered")
        sig, text = signal_of(typed[0])
        run.check(sig == "blue" and text.endswith("(typed)"), f"a typed entry is marked typed ({text!r})")

        key_in([scanned[0]], 0.008)
        run.check(settled(), "the repeat answered")
        sig, text = signal_of(scanned[0])
        run.check(sig == "amber" and "Already in custody" in text, f"a repeat is amber, already in custody ({text!r})")

        key_in(["EB000717594HK"], 0.008)
        sig, text = signal_of("EB000717594HK")
        run.check(sig == "red" and "S10_CHECK" in text, f"a bad check digit is red at the station ({text!r})")
        drv.save_screenshot(os.path.join(args.out, "scan-station.png"))

        drv.execute_cdp_cmd("Network.enable", {})
        drv.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        cut = time.time()
        key_in(during_outage, 0.008)
        time.sleep(3)
        waiting = queue_length()
        status = drv.find_element(By.ID, "scan-status").text
        run.check(waiting == 50 and "unreachable" in status, f"during the cut the 50 scans wait at the station ({waiting}; {status!r})")
        drv.save_screenshot(os.path.join(args.out, "scan-station-offline.png"))
        time.sleep(max(0.0, args.outage - (time.time() - cut)))
        drv.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        run.check(settled(60), f"after {args.outage:.0f} s offline the queue drains")

        # A lost answer: the server recorded a batch, the station never heard back and sends it
        # again with the same scan ids. Every scan is answered "repeated"; nothing is doubled.
        replay = drv.execute_async_script("""
            var done = arguments[arguments.length - 1];
            var root = document.querySelector('[data-scan-station]');
            var rows = Array.prototype.slice.call(document.querySelectorAll('#scan-results li[id^="scan-"]'), 0, 5);
            var scans = rows.map(function (li) {
              return {s10: li.textContent.split(' ')[0], action: 'receive', location: 'RCV-1', client_scan_id: li.id.slice(5)};
            });
            fetch('/api/v1/custody/scans', {method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRF-Token': root.dataset.csrf},
              body: JSON.stringify({station: 'AT9', scans: scans})})
              .then(function (r) { return r.json(); })
              .then(function (b) { done(b.results.map(function (x) { return x.status; })); }, function (e) { done(['error ' + e]); });
            """)
        run.check(replay == ["repeated"] * 5, f"a batch sent again after a lost answer is answered 'repeated', nothing recorded ({replay})")

        chains = drv.execute_async_script("""
            var done = arguments[arguments.length - 1], ids = arguments[0], out = {}, i = 0;
            function next() {
              if (i >= ids.length) { done(out); return; }
              var chunk = ids.slice(i, i + 50); i += 50;
              Promise.all(chunk.map(function (s) {
                return fetch('/api/v1/custody/items/' + s, {headers: {Accept: 'application/json'}}).then(function (r) { return r.json(); })
                  .then(function (b) { out[s] = (b.events || []).map(function (e) { return [e.type, e.manual_entry]; }); });
              })).then(next, function (e) { done({error: String(e)}); });
            }
            next();
            """, scanned + typed + during_outage)
        run.check("error" not in chains, f"every chain read back {chains.get('error', '')}")
        once = lambda ids: [s for s in ids if chains.get(s) != [["RECEIVED", False]]]
        run.check(not once(scanned), f"{args.count} scanner-speed scans: one RECEIVED event each, not typed (off: {once(scanned)[:3]})")
        typed_ok = [s for s in typed if chains.get(s) == [["RECEIVED", True]]]
        run.check(len(typed_ok) == 10, f"10 typed entries recorded with manual_entry ({len(typed_ok)})")
        run.check(not once(during_outage), f"the 50 scans of the outage: exactly one event each after reconnecting (off: {once(during_outage)[:3]})")

        # INSPECT mode (CUSTODY.md §4.3), by an officer at the exam station: the first scan of an
        # item starts its inspection, the next ends it with the result chosen on the page.
        from selenium.webdriver.support.ui import Select
        drv.delete_all_cookies()
        sign_in("o.officer")
        drv.get(base + "/custody/scan?mode=inspect&location=EXAM-1&station=EX1&method=xray")
        officer_key = "rk-scan-queue:EX1:o.officer"
        item = typed[1]
        key_in([item], 0.008)
        run.check(settled(key=officer_key), "the inspection's start answered")
        sig, text = signal_of(item)
        run.check(sig == "green" and "INSPECTION STARTED (xray) at EXAM-1" in text, f"the first scan starts the inspection ({text!r})")
        Select(drv.find_element(By.ID, "result")).select_by_value("anomaly")
        drv.find_element(By.ID, "found").send_keys("Blister packs of tablets")
        drv.find_element(By.ID, "scan").click()
        key_in([item], 0.008)
        run.check(settled(key=officer_key), "the inspection's end answered")
        sig, text = signal_of(item)
        run.check(sig == "amber" and "anomaly – Blister packs of tablets" in text, f"the next scan ends it with the chosen result ({text!r})")
        run.check(Select(drv.find_element(By.ID, "result")).first_selected_option.get_attribute("value") == "no_anomaly"
                  and drv.find_element(By.ID, "found").get_attribute("value") == "", "the result and finding are cleared for the next item")
        chain = drv.execute_async_script("""
            var done = arguments[arguments.length - 1];
            fetch('/api/v1/custody/items/' + arguments[0], {headers: {Accept: 'application/json'}}).then(function (r) { return r.json(); })
              .then(function (b) { done([(b.events || []).map(function (e) { return e.type; }), (b.inspections || []).map(function (i) { return i.result; })]); },
                    function (e) { done(['error ' + e]); });
            """, item)
        run.check(chain == [["RECEIVED", "INSPECT_START", "INSPECT_END"], ["anomaly"]], f"the item's chain holds the inspection ({chain})")
        drv.save_screenshot(os.path.join(args.out, "scan-station-inspect.png"))

        logs = drv.get_log("browser")
        problems = [e["message"] for e in logs if e["level"] == "SEVERE" and "ERR_INTERNET_DISCONNECTED" not in e["message"]
                    and "Failed to fetch" not in e["message"]]
        run.check(not problems, f"no script errors or blocked content {problems[:2]}")
    finally:
        if drv:
            drv.quit()
        if server:
            server.terminate()
            server.wait(timeout=30)
    print(f"{len(run.failures)} failure(s)")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
