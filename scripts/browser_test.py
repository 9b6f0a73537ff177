#!/usr/bin/env python3
"""Drives the real web UI in headless Chromium, the way staff use it.

Starts `recordkeeper serve` on a fresh archive with a user for each role, then: signs in,
uploads a WhatsApp export (a zip with a photo) with upload progress, searches, opens a hit in
its conversation, opens the record's details, places a legal hold, reads the audit log and runs
"verify now". Checks keyboard access (skip link first, visible focus) and that the content
security policy blocked nothing. Saves a screenshot of every page to --out.

Exit status: 0 passed; 1 a check failed; 2 no browser (a failure under CI=true, where
scripts/test.sh treats it as one).
"""
import argparse
import json
import os
import pwd
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
import zlib

PASSWORD = "browser test passphrase 1"

CHAT = """12/03/2021, 09:15 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.
12/03/2021, 09:16 - Javier Alvarez: Morning. The inspection at lane 7 starts at ten
12/03/2021, 09:20 - Ana Ruiz: Copy. Bring the seizure forms for the pallet
12/03/2021, 09:31 - Javier Alvarez: IMG-20210312-WA0001.png (file attached)
Pallet before inspection
12/03/2021, 09:40 - Ana Ruiz: That pallet goes to the evidence locker tonight
13/03/2021, 08:05 - Javier Alvarez: Locker log signed <b>twice</b>
13/03/2021, 08:06 - Ana Ruiz: Thanks
"""


# A one-year schedule: the 2021 chat is due for destruction now (the default schedule keeps it ten years).
ONE_YEAR_PLAN = """{"title": "Electronic Messaging Records (browser test)", "fiscal_year_start_month": 10,
 "items": [{"id": "0002", "authority": "DAA-0568-2022-0005-0002", "title": "All other messages", "disposition": "temporary",
            "cutoff": "calendar-year", "retention": {"years": 1}}],
 "rules": [{"id": "everyone", "item": "0002"}]}
"""


def png(width=160, height=100):
    """A real PNG: a blue-grey gradient with an orange band (a stand-in for a photo)."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            if 40 <= y < 60:
                row += bytes([240, 140, 20])
            else:
                row += bytes([30 + x // 2, 60 + y, 140])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Run:
    def __init__(self, binary, out):
        self.binary = binary
        self.out = out
        self.failures = []
        self.shots = []
        self.accessibility_pages = 0

    def check(self, ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def rk(self, *args, stdin=None):
        r = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"recordkeeper {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout


def find_browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    return chromium, driver


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
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
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        if old.endswith(".png"):
            os.remove(os.path.join(args.out, old))
    run = Run(os.path.abspath(args.binary), args.out)
    work = tempfile.mkdtemp(prefix="rk-browser-")
    data = os.path.join(work, "data")
    server = None
    drv = None
    try:
        run.rk("init", "--data-dir", data)
        users = [("r.officer", ["admin", "records-officer"], None), ("j.alvarez", ["custodian"], "j.alvarez@cbp.example.gov"),
                 ("a.auditor", ["auditor"], None), ("d.harris", ["records-officer"], None)]
        for name, roles, custodian in users:
            cmd = ["user", "add", name, "--data-dir", data, "--password-stdin"]
            if name == "r.officer":  # the first admin: the command line acts as r.officer from here on
                cmd += ["--os-account", pwd.getpwuid(os.getuid()).pw_name]
            for r in roles:
                cmd += ["--role", r]
            if custodian:
                cmd += ["--custodian", custodian]
            run.rk(*cmd, stdin=PASSWORD + "\n")
        export = os.path.join(work, "WhatsApp Chat with Ana Ruiz.zip")
        with zipfile.ZipFile(export, "w") as z:
            z.writestr("WhatsApp Chat with Ana Ruiz.txt", CHAT)
            z.writestr("IMG-20210312-WA0001.png", png())

        server = subprocess.Popen([run.binary, "serve", "--data-dir", data, "--port", "0"], stdout=subprocess.PIPE,
                                  stderr=open(os.path.join(work, "server.log"), "w"), text=True)
        line = server.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if not m:
            raise SystemExit(f"the server did not start: {line!r}")
        base = m.group(1)

        opts = Options()
        opts.binary_location = chromium
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--hide-scrollbars"]:
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        drv = webdriver.Chrome(service=Service(driver_path), options=opts)
        drv.set_script_timeout(30)
        wait = WebDriverWait(drv, 30)

        axe_js = None
        try:
            import axe_selenium_python
            with open(os.path.join(os.path.dirname(axe_selenium_python.__file__), "node_modules", "axe-core", "axe.min.js")) as fh:
                axe_js = fh.read()
        except (ImportError, OSError):
            print("axe-core not installed: accessibility rules not checked (pip install axe-selenium-python)", file=sys.stderr)

        def audit_accessibility(name):
            """axe-core's WCAG 2 A/AA and Section 508 rules on the page as it is now."""
            if not axe_js:
                return
            drv.execute_script(axe_js)
            result = drv.execute_async_script(
                "var done = arguments[arguments.length - 1];"
                "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'section508']}}, function (err, r) {"
                "  done(err ? {error: String(err)} : {violations: r.violations.map(function (v) {"
                "    return {id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0] && v.nodes[0].target.join(' ')}; })}); });")
            if "error" in result:
                run.check(False, f"axe ran on {name}: {result['error']}")
                return
            bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
            minor = [f"{v['id']} ({v['impact']})" for v in result["violations"] if v not in bad]
            if minor:
                print(f"note  {name}: minor accessibility findings: {', '.join(minor)}")
            run.accessibility_pages += 1
            run.check(not bad, f"{name}: no serious WCAG 2 AA / Section 508 violations {bad[:3] if bad else ''}")

        def shot(name):
            path = os.path.join(args.out, f"{len(run.shots) + 1:02d}-{name}.png")
            drv.save_screenshot(path)
            run.shots.append(path)
            audit_accessibility(name)

        def sign_in(user):
            drv.get(base + "/login")
            drv.find_element(By.ID, "username").send_keys(user)
            drv.find_element(By.ID, "password").send_keys(PASSWORD)
            drv.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            wait.until(lambda d: "/login" not in d.current_url)

        def sign_out():
            drv.find_element(By.CSS_SELECTOR, "form.signout button").click()
            wait.until(EC.url_contains("/login"))

        # 1. Sign in (custodian). Keyboard: the skip link is the first stop and focus is visible.
        drv.get(base + "/search")
        wait.until(EC.url_contains("/login?next="))
        shot("sign-in")
        run.check("js" in (drv.find_element(By.TAG_NAME, "html").get_attribute("class") or ""), "app.js runs (under the CSP) in the ordinary browser")
        run.check(drv.find_element(By.CSS_SELECTOR, "label[for=password]").text == "Password", "inputs have labels")
        drv.find_element(By.ID, "username").send_keys("j.alvarez")
        drv.find_element(By.ID, "password").send_keys("not the password")
        drv.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        # The answer comes after a bcrypt check: wait for the page rather than read the old one.
        wait.until(EC.presence_of_element_located((By.ID, "login-error")))
        run.check("not right" in drv.find_element(By.ID, "login-error").text, "a wrong password says so")
        shot("sign-in-error")
        sign_in("j.alvarez")
        run.check(drv.current_url.endswith("/search"), "sign-in returns to the page asked for")
        # Keyboard: the skip link is the first Tab stop, focus is visible, and it moves focus to main.
        ActionChains(drv).send_keys(Keys.TAB).perform()
        active = drv.switch_to.active_element
        run.check(active.get_attribute("class") == "skip", "the first Tab stop is the skip link")
        outline = active.value_of_css_property("outline-style")
        run.check(outline not in ("none", ""), f"focus is visible (outline {outline})")
        shot("keyboard-skip-link")
        active.send_keys(Keys.ENTER)
        run.check(drv.switch_to.active_element.get_attribute("id") == "main", "the skip link moves focus to the main content")

        # 2. Upload an export with progress, then the batch summary.
        drv.get(base + "/upload")
        shot("upload-form")
        drv.find_element(By.ID, "file").send_keys(export)
        drv.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
        wait.until(EC.url_contains("/batches/"))
        shot("batch-summary")
        run.check(drv.find_element(By.ID, "added").text == "7", f"the summary shows 7 messages added (got {drv.find_element(By.ID, 'added').text})")
        run.check(drv.find_element(By.ID, "duplicates").text == "0", "and no duplicates")

        # 3. Search, highlighted; open a hit in its conversation, scrolled to it, photo shown.
        # The upload answered at capture; serve's indexer makes it searchable moments later.
        for _ in range(100):
            lag = json.loads(urllib.request.urlopen(base + "/health").read())["index_lag_messages"]
            if lag == 0:
                break
            time.sleep(0.1)
        run.check(lag == 0, "serve's indexer makes the upload searchable within seconds")
        drv.get(base + "/search")
        q = drv.find_element(By.ID, "q")
        q.send_keys("pallet")
        q.send_keys(Keys.ENTER)
        wait.until(EC.presence_of_element_located((By.ID, "result-count")))
        shot("search-results")
        run.check(drv.find_element(By.ID, "result-count").text.startswith("3 matching"), "search finds the three messages about the pallet")
        marks = drv.find_elements(By.CSS_SELECTOR, ".snippet mark")
        run.check(len(marks) >= 2 and marks[0].text.lower() == "pallet", "matches are highlighted")
        drv.find_elements(By.CSS_SELECTOR, "a.hit-open")[0].click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "li.msg.anchor")))
        anchor = drv.find_element(By.CSS_SELECTOR, "li.msg.anchor")
        run.check("pallet" in anchor.text.lower(), "the conversation opens at the hit")
        in_view = drv.execute_script("var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight;", anchor)
        run.check(in_view, "the hit is scrolled into view")
        img = drv.find_element(By.CSS_SELECTOR, ".attachments img")
        wait.until(lambda d: d.execute_script("return arguments[0].complete", img))
        run.check(drv.execute_script("return arguments[0].naturalWidth", img) == 160, "the photo previews inline")
        run.check("<b>" in drv.page_source.replace("&lt;b&gt;", "<b>") and not drv.find_elements(By.CSS_SELECTOR, ".body b"),
                  "markup in a message is shown as text, not rendered")
        shot("conversation-at-hit")
        drv.find_element(By.CSS_SELECTOR, "li.msg.anchor a[href^='/messages/']").click()
        wait.until(EC.presence_of_element_located((By.ID, "prov")))
        shot("record-detail")
        run.check("Capture batch" in drv.page_source and "matches" in drv.find_element(By.CSS_SELECTOR, "section[aria-labelledby=hashes]").text,
                  "the record shows provenance and a verified hash")
        sign_out()

        # 4. A records officer places a hold.
        sign_in("r.officer")
        drv.get(base + "/holds/new")
        drv.find_element(By.ID, "name").send_keys("FOIA: lane 7 inspection")
        Select(drv.find_element(By.ID, "matter")).select_by_value("foia-request")
        drv.find_element(By.ID, "reference").send_keys("CBP-2021-0031")
        drv.find_element(By.ID, "requested_by").send_keys("FOIA Division")
        # Custodians are picked, not typed; the scope is previewed before the hold is placed.
        drv.find_element(By.CSS_SELECTOR, "input[name=custodians][value='j.alvarez@cbp.example.gov']").click()
        drv.find_element(By.ID, "query").send_keys("pallet OR locker")
        shot("hold-form")
        drv.find_element(By.CSS_SELECTOR, "main form button[value=preview]").click()
        wait.until(EC.presence_of_element_located((By.ID, "hold-preview")))
        shot("hold-preview")
        run.check(drv.find_element(By.ID, "preview-count").text == "4", "the preview shows the 4 records the hold would cover")
        run.check(drv.find_element(By.CSS_SELECTOR, "input[name=custodians][value='j.alvarez@cbp.example.gov']").is_selected(),
                  "the preview keeps what was picked")
        drv.find_element(By.CSS_SELECTOR, "main form button[value=place]").click()
        wait.until(EC.presence_of_element_located((By.ID, "held-count")))
        shot("hold-placed")
        run.check(drv.find_element(By.ID, "held-count").text == "4", f"the hold covers 4 records (got {drv.find_element(By.ID, 'held-count').text})")
        drv.get(base + "/holds")
        shot("holds-list")
        drv.get(base + "/search?q=pallet&under_hold=on")
        run.check(drv.find_element(By.ID, "result-count").text.startswith("3 matching"), "search can be limited to held records")
        # Collection without words: the filters alone, from the form (the words box left empty).
        drv.get(base + "/search")
        drv.find_element(By.CSS_SELECTOR, "details summary").click()
        drv.find_element(By.ID, "has_attachment").click()
        drv.find_element(By.CSS_SELECTOR, "form.search-form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.ID, "result-count")))
        shot("collection-by-filters")
        count = drv.find_element(By.ID, "result-count").text
        run.check(count.startswith("1 matching") and "newest first" in count, f"filters alone collect what they select ({count!r})")
        run.check(" UTC)" in drv.find_element(By.CSS_SELECTOR, "li.hit .hit-meta").text, "a hit shows its UTC time beside the time as written")
        drv.get(base + "/compliance")
        run.check(drv.find_element(By.TAG_NAME, "h1").text == "Compliance", "a records officer opens the compliance dashboard")
        headings = [h.text for h in drv.find_elements(By.CSS_SELECTOR, "main h2")]
        run.check(any(h.startswith("20-day rule") for h in headings) and any(h.startswith("Capture findings") for h in headings)
                  and "Messaging apps in use" in headings, f"the dashboard shows the 20-day rule, findings and the app inventory ({headings})")
        shot("compliance-dashboard")
        sign_out()

        # 5. An auditor reads the audit log and verifies the archive.
        sign_in("a.auditor")
        run.check(drv.current_url.endswith("/audit"), "an auditor starts on the audit log")
        shot("audit-log")
        rows = drv.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr")
        actions = [r.find_elements(By.TAG_NAME, "td")[3].text for r in rows]
        run.check("hold.create" in actions and "show.message" in actions and "search" in actions,
                  f"the audit log shows the hold, the searches and the reads ({sorted(set(actions))[:12]})")
        drv.find_element(By.ID, "actor").send_keys("j.alvarez")
        drv.find_element(By.CSS_SELECTOR, "form.filters button").click()
        wait.until(EC.url_contains("actor=j.alvarez"))
        actors = {r.find_elements(By.TAG_NAME, "td")[2].text for r in drv.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr")}
        run.check(actors == {"j.alvarez"}, f"the audit log filters by who ({actors})")
        shot("audit-filtered")
        drv.get(base + "/audit")
        drv.find_element(By.ID, "verify-now").click()
        wait.until(EC.presence_of_element_located((By.ID, "verify-result")))
        shot("verify-result")
        run.check("Everything verified" in drv.find_element(By.ID, "verify-result").text, "verify now reports no problems")
        drv.get(base + "/search?q=pallet")
        run.check("Not allowed" in drv.find_element(By.TAG_NAME, "h1").text, "an auditor cannot read record content")
        shot("auditor-refused")

        # 6. Without JavaScript: sign-in, search, reading and upload still work.
        nojs_opts = Options()
        nojs_opts.binary_location = chromium
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
            nojs_opts.add_argument(a)
        nojs_opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        nojs = webdriver.Chrome(service=Service(driver_path), options=nojs_opts)
        try:
            nojs.get(base + "/login?next=/search")
            run.check("js" not in (nojs.find_element(By.TAG_NAME, "html").get_attribute("class") or ""), "app.js did not run in this browser")
            nojs.find_element(By.ID, "username").send_keys("j.alvarez")
            nojs.find_element(By.ID, "password").send_keys(PASSWORD)
            nojs.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            # The sign-in page's own address names /search (?next=), so wait for the search form.
            WebDriverWait(nojs, 30).until(lambda d: "/login" not in d.current_url and d.find_elements(By.ID, "q"))
            q = nojs.find_element(By.ID, "q")
            q.send_keys("locker")
            q.send_keys(Keys.ENTER)
            WebDriverWait(nojs, 30).until(EC.presence_of_element_located((By.ID, "result-count")))
            run.check(nojs.find_element(By.ID, "result-count").text.startswith("2 matching"), "search works without JavaScript")
            nojs.find_elements(By.CSS_SELECTOR, "a.hit-open")[0].click()
            WebDriverWait(nojs, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "li.msg.anchor")))
            run.check("locker" in nojs.find_element(By.CSS_SELECTOR, "li.msg.anchor").text.lower(), "reading a conversation works without JavaScript")
            # A phone (390 px wide): pages fit; long hashes and wide tables wrap or scroll inside their box.
            nojs.set_window_size(390, 844)
            for path in ["/search?q=locker", "/conversations", "/conversations/1", "/messages/1", "/upload", "/account", "/batches/1"]:
                nojs.get(base + path)
                width = nojs.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
                run.check(width[0] <= width[1], f"{path} fits a 390 px screen (page {width[0]} px, window {width[1]} px)")
            nojs.save_screenshot(os.path.join(args.out, f"{len(run.shots) + 1:02d}-phone-record.png"))
            run.shots.append("phone-record")
            nojs.set_window_size(1280, 900)
            nojs.get(base + "/upload")
            nojs.find_element(By.ID, "file").send_keys(export)
            nojs.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
            WebDriverWait(nojs, 60).until(EC.url_contains("/batches/"))
            run.check(nojs.find_element(By.ID, "duplicates").text == "7", "upload works without JavaScript (the same export again: 7 duplicates)")
            nojs.save_screenshot(os.path.join(args.out, f"{len(run.shots) + 1:02d}-no-javascript-upload.png"))
            run.shots.append("no-javascript-upload")
        finally:
            nojs.quit()

        # 8. The whole disposition flow in the browser, under a one-year schedule: a records officer
        #    sees what is due and proposes it; a second officer reads the records and a sample,
        #    approves and executes; the certificate is issued; the conversation shows the gap.
        plan = os.path.join(work, "one-year-plan.json")
        with open(plan, "w") as fh:
            fh.write(ONE_YEAR_PLAN)
        run.rk("fileplan", "import", plan, "--apply", "--data-dir", data, "--note", "browser test: one-year schedule")
        drv.get(base + "/")
        sign_out()
        sign_in("r.officer")
        drv.get(base + "/dispositions")
        drv.find_element(By.LINK_TEXT, "propose a disposition").click()
        wait.until(EC.presence_of_element_located((By.ID, "due")))
        shot("disposition-due")
        held = drv.find_element(By.CSS_SELECTOR, "#due tbody tr td:nth-child(3)").text
        run.check(held == "4", f"the records the hold keeps are counted and kept out (got {held})")
        propose = drv.find_element(By.CSS_SELECTOR, "form[action='/dispositions'] button[type=submit]")
        run.check(propose.text.startswith("Propose destruction of 3 records"), f"what is due is shown before proposing ({propose.text!r})")
        propose.click()
        wait.until(EC.url_contains("notice=proposed"))
        batch = drv.current_url.split("?")[0]
        shot("disposition-proposed")
        sign_out()
        sign_in("d.harris")
        drv.get(batch + "/records")
        wait.until(EC.presence_of_element_located((By.ID, "records-count")))
        run.check(drv.find_element(By.ID, "records-count").text.startswith("3 records"), "the second officer reads the batch's records")
        drv.get(batch + "/records?sample=1")
        run.check("random sample" in drv.find_element(By.ID, "records-count").text, "and a random sample of them")
        drv.get(batch)
        drv.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
        WebDriverWait(drv, 10).until(EC.alert_is_present())
        drv.switch_to.alert.accept()
        wait.until(EC.url_contains("notice=approved"))
        drv.find_element(By.CSS_SELECTOR, "form[action$='/execute'] button").click()
        WebDriverWait(drv, 10).until(EC.alert_is_present())
        drv.switch_to.alert.accept()
        wait.until(EC.url_contains("notice=executed"))
        shot("disposition-executed")
        run.check(len(drv.find_elements(By.LINK_TEXT, "Download the certificate (HTML)")) == 1, "the certificate is issued")
        # The certificate downloads (an attachment): fetched with this browser's session.
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in drv.get_cookies())
        with urllib.request.urlopen(urllib.request.Request(batch + "/certificate?format=json", headers={"Cookie": cookie})) as response:
            cert = json.load(response)
        run.check(cert.get("records") == 3 and cert.get("approved_by") == "d.harris" and cert.get("proposed_by") == "r.officer",
                  f"the certificate counts the 3 destroyed records and names both officers ({ {k: cert.get(k) for k in ('records', 'proposed_by', 'approved_by')} })")
        drv.get(base + "/conversations/1")
        gaps = drv.find_elements(By.CSS_SELECTOR, "li.msg.gap")
        run.check(len(gaps) > 0 and "disposition" in gaps[0].text, "the conversation shows where records were destroyed, and by which disposition")
        shot("conversation-gap")

        # 7. The content security policy blocked nothing (no inline script or style anywhere).
        logs = drv.get_log("browser")
        csp = [e["message"] for e in logs if "Content Security Policy" in e.get("message", "")]
        run.check(not csp, f"no content-security-policy violations ({csp[:2]})")
        severe = [e["message"] for e in logs if e.get("level") == "SEVERE" and "favicon" not in e.get("message", "")
                  and "403" not in e.get("message", "") and "401" not in e.get("message", "")]
        run.check(not severe, f"no browser errors ({severe[:2]})")
    finally:
        if drv:
            drv.quit()
        if server:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(run.shots)} screenshots in {args.out}; {run.accessibility_pages} pages checked with axe-core")
    if run.failures:
        print(f"{len(run.failures)} browser check(s) failed", file=sys.stderr)
        return 1
    print("browser tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
