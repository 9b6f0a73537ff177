#!/usr/bin/env python3
"""Single sign-on in the real Chromium against a real OpenID Connect provider (issue 16).

The provider is django-oidc-provider (scripts/oidc.sh: code flow with PKCE, RS256 ID tokens
from a key made for the run). The archive serves with --oidc-config naming it. Checked:
a records officer signs on, gets an account with the role her group grants, and the
audit log names her and the provider's subject; someone whose groups grant nothing is
refused; a local account of the same name is never taken over until an admin links it;
the provider's groups change her roles at the next sign-on; an answer that did not start
in this browser, or is replayed, is refused; the code can only be exchanged with this
sign-in's PKCE verifier (the provider refuses another).

Exit status: 0 passed, 1 a check failed, 2 no Chromium (the caller decides).
"""
import argparse
import json
import os
import pwd
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDP_PASSWORD = "idp passphrase for tests"
LOCAL_PASSWORD = "local passphrase for tests"


class Run:
    def __init__(self, binary):
        self.binary = binary
        self.failures = []

    def check(self, ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def rk(self, *args, stdin=None, ok=True):
        r = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True)
        if ok and r.returncode != 0:
            raise SystemExit(f"recordkeeper {' '.join(args)} failed: {r.stderr.strip()}")
        return r


def oidc(*args):
    r = subprocess.run([os.path.join(ROOT, "scripts", "oidc.sh"), *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"scripts/oidc.sh {' '.join(args[:1])} failed: {r.stderr.strip()[-2000:]}")
    return r.stdout.strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    if not chromium or not driver_path:
        print("no Chromium/chromedriver found", file=sys.stderr)
        return 2
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    os.makedirs(args.out, exist_ok=True)
    run = Run(os.path.abspath(args.binary))
    work = tempfile.mkdtemp(prefix="rk-sso-")
    data = os.path.join(work, "data")
    idp = os.path.join(work, "idp")
    server = drv = None
    try:
        # The archive: a local admin (the OS account acts as her) and a local reviewer, d.local,
        # whose name the provider also knows.
        run.rk("init", "--data-dir", data)
        run.rk("user", "add", "r.officer", "--role", "admin", "--role", "records-officer", "--data-dir", data,
               "--os-account", pwd.getpwuid(os.getuid()).pw_name)
        run.rk("user", "add", "d.local", "--role", "reviewer", "--data-dir", data, "--password-stdin", stdin=LOCAL_PASSWORD + "\n")

        issuer = oidc("start", idp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        redirect = base + "/auth/oidc/callback"
        client_id, secret = oidc("client", idp, redirect).split()
        secret_file = os.path.join(work, "oidc-client-secret")
        with open(os.open(secret_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
            fh.write(secret + "\n")
        config = os.path.join(work, "oidc.json")
        with open(config, "w") as fh:
            json.dump({"issuer": issuer, "client_id": client_id, "client_secret_file": secret_file, "redirect_url": redirect,
                       "roles": {"rk-records-officers": ["records-officer"], "rk-foia": ["reviewer"], "rk-auditors": ["auditor"]},
                       "button_label": "Sign in with Agency SSO"}, fh)
        oidc("user", idp, "o.chen", IDP_PASSWORD, "--groups", "rk-records-officers,staff", "--email", "o.chen@agency.example.gov",
             "--name", "Olivia Chen")
        oidc("user", idp, "v.guest", IDP_PASSWORD, "--groups", "marketing")
        oidc("user", idp, "d.local", IDP_PASSWORD, "--groups", "rk-foia")

        server = subprocess.Popen([run.binary, "serve", "--data-dir", data, "--port", str(port), "--oidc-config", config],
                                  stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "w"), text=True)
        line = server.stdout.readline()
        if base not in line:
            raise SystemExit(f"the server did not start: {line!r}")

        opts = Options()
        opts.binary_location = chromium
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        drv = webdriver.Chrome(service=Service(driver_path), options=opts)
        wait = WebDriverWait(drv, 30)

        def shot(name):
            drv.save_screenshot(os.path.join(args.out, f"sso-{name}.png"))

        def sign_on(user, password=IDP_PASSWORD, fresh=True):
            """From our sign-in page through the provider's form; returns our page's text."""
            if fresh:
                drv.delete_all_cookies()
            drv.get(base + "/login?next=/holds")
            drv.find_element(By.ID, "sso").click()
            wait.until(EC.presence_of_element_located((By.ID, "login-submit")))
            drv.find_element(By.ID, "id_username").send_keys(user)
            drv.find_element(By.ID, "id_password").send_keys(password)
            drv.find_element(By.ID, "login-submit").click()
            wait.until(lambda d: d.current_url.startswith(base) and "/auth/oidc/callback" not in d.current_url
                       or "callback" in d.current_url and d.find_elements(By.ID, "login-error"))
            return drv.find_element(By.TAG_NAME, "body").text

        def audit(sql, *params):
            db = sqlite3.connect(f"file:{os.path.join(data, 'archive.sqlite')}?mode=ro", uri=True)
            try:
                return db.execute(sql, params).fetchall()
            finally:
                db.close()

        # 1. A records officer signs on for the first time: an account with her group's role.
        drv.get(base + "/login")
        run.check(drv.find_element(By.ID, "sso").text == "Sign in with Agency SSO", "the sign-in page offers single sign-on")
        shot("sign-in")
        text = sign_on("o.chen")
        run.check(drv.current_url == base + "/holds", f"signed on, she lands where she was going ({drv.current_url})")
        run.check("Olivia Chen" in text or "o.chen" in text, "the page names her (her name from the provider)")
        shot("signed-on")
        drv.get(base + "/dispositions")
        run.check(drv.title and "Sign in" not in drv.title and "Forbidden" not in drv.find_element(By.TAG_NAME, "body").text,
                  "as a records officer she opens the disposition screen")
        added = audit("SELECT actor, json_extract(detail, '$.roles'), json_extract(detail, '$.issuer') FROM audit_log "
                      "WHERE action = 'user.add' AND target = 'user:o.chen'")
        run.check(added == [("system:sso", "records-officer", issuer)], f"her account was made from the provider's word, audited ({added})")
        logins = audit("SELECT actor, json_extract(detail, '$.method'), json_extract(detail, '$.subject') FROM audit_log "
                       "WHERE action = 'login' AND actor = 'o.chen'")
        run.check(len(logins) == 1 and logins[0][1] == "oidc" and logins[0][2], f"the sign-on is audited with the provider's subject ({logins})")
        subject = logins[0][2] if logins else ""
        link = audit("SELECT user_name FROM user_login WHERE kind = 'oidc' AND subject = ?", f"{issuer}|{subject}")
        run.check(link == [("o.chen",)], "her provider identity is bound to the account")

        # 2. Her groups change at the provider: her roles follow at the next sign-on.
        oidc("user", idp, "o.chen", IDP_PASSWORD, "--groups", "rk-auditors", "--email", "o.chen@agency.example.gov", "--name", "Olivia Chen")
        sign_on("o.chen")
        drv.get(base + "/audit")
        run.check("Audit log" in drv.find_element(By.TAG_NAME, "body").text, "with the auditors' group she reads the audit log")
        roles = audit("SELECT json_extract(detail, '$.roles'), json_extract(detail, '$.previous_roles') FROM audit_log "
                      "WHERE action = 'user.roles' AND target = 'user:o.chen' AND actor = 'system:sso'")
        run.check(roles == [("auditor", "records-officer")], f"the change of roles is audited ({roles})")

        # 3. Signed on, but no group grants a role: refused, audited, no account.
        text = sign_on("v.guest")
        run.check("none of your groups (marketing) grants a Recordkeeper role" in text, "someone without a mapped group is refused")
        shot("refused-no-role")
        run.check(audit("SELECT count(*) FROM app_user WHERE name = 'v.guest'") == [(0,)], "and gets no account")

        # 4. A local account of the same name is not taken over; once an admin links it, it is hers.
        text = sign_on("d.local")
        run.check("already exists and is not linked" in text, "a local account of the same name is not taken over")
        m = re.search(r"--sso '([^']+)'", text)
        run.check(bool(m), "the refusal shows the identity an admin would link")
        if m:
            linked = run.rk("user", "link", "d.local", "--sso", m.group(1), "--data-dir", data)
            run.check("now acts as d.local" in linked.stdout, "the admin links it (as the OS account she is linked to)")
            sign_on("d.local")
            drv.get(base + "/search")
            run.check(drv.current_url.startswith(base + "/search") and "d.local" in drv.find_element(By.TAG_NAME, "body").text,
                      "d.local signs on to her own account, as a reviewer")

        # 5. An answer that did not start in this browser, and a replayed one, are refused.
        drv.delete_all_cookies()
        drv.get(base + "/auth/oidc/callback?state=forged&code=forged")
        run.check("did not start in this browser" in drv.find_element(By.TAG_NAME, "body").text, "a forged answer is refused")
        # Chromium's network log gives the provider's answer as the browser received it.
        drv.get_log("performance")
        sign_on("o.chen")
        callbacks = []
        for entry in drv.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                url = message["params"]["request"]["url"]
                if url.startswith(base + "/auth/oidc/callback?"):
                    callbacks.append(url)
        run.check(len(callbacks) == 1 and "code=" in callbacks[0], "the provider's answer came back once, with a code")
        if callbacks:
            # Even with the browser's own state cookie back (the back button, or a copied cookie).
            state = urllib.parse.parse_qs(urllib.parse.urlsplit(callbacks[0]).query)["state"][0]
            drv.add_cookie({"name": "rk_sso_state", "value": state, "path": "/auth/oidc/callback"})
            drv.get(callbacks[0])
            run.check("expired or was already used" in drv.find_element(By.TAG_NAME, "body").text, "the same answer again is refused")

        failed = audit("SELECT json_extract(detail, '$.reason') FROM audit_log WHERE action = 'login.failed' AND json_extract(detail, '$.method') = 'oidc'")
        reasons = " | ".join(r[0] for r in failed)
        run.check("not this browser's" in reasons and "none of your groups" in reasons and "already exists" in reasons,
                  f"every refused sign-on is audited with its reason ({len(failed)})")
    finally:
        if drv:
            drv.quit()
        if server:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        subprocess.run([os.path.join(ROOT, "scripts", "oidc.sh"), "stop", idp], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    if run.failures:
        print(f"{len(run.failures)} single sign-on check(s) failed", file=sys.stderr)
        return 1
    print("single sign-on tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
