#!/usr/bin/env python3
"""Crash matrix (issue 17, item 3): kill -9 a real `recordkeeper` child process at random
points of its work, and fill its disk, then check what it left behind.

Kill points (each repeated at N random offsets inside a window measured on a clean run):

  ingest            `ingest` of a generated WhatsApp zip with attachments
  index             `index rebuild` (resumed with `index catch-up`)
  dispose-execute   `dispose execute` of an approved destruction batch
  transfer-package  `transfer package` of an approved transfer (BagIt bag)
  transfer-confirm  `transfer confirm` of a packaged transfer (records become tombstones)
  hold              `hold create` (a scope by query)
  migrate           `migrate` of a data directory into PostgreSQL (scripts/postgres.sh)
  upload            `serve`, killed while it captures a POST /api/v1/ingest upload
  disk-full         ingest into a data directory on a small tmpfs until it is full (no kill),
                    then more room and the same ingest again

After every kill: `verify` must exit 0; the rerun (the same command, or the documented resume)
must complete; the archive must then hold what a clean run holds (stats; digests of every
message's identity, text and source line, of attachments, tombstones, live blobs, holds and
retention assignments; search totals; the bag's manifest; migrate's table row counts and the
copy's own verify and stats); a destructive act must be either not started or complete and
certified (a destruction that committed without its certificate counts as half-done); `verify`
must pass again, and no unauthorized-disposition incident may have been opened by it. A kill
that lands after the child had finished does not count as a mid-work kill: the table says so and
that offset is tried once more in a window rescaled to how long the child really took ("2r").
Ingest runs with RECORDKEEPER_INGEST_CHUNK=1000 so that a capture commits several times.

Besides the random offsets, "gated" kills put the kill exactly between two commits: a helper
process takes the SQLite write lock the moment the first commit is visible, so the child blocks
at its next write, and is killed there (capture committed / checkpoint not signed; destruction
committed / certificate not written; bag moved into place / batch not marked packaged).
`--offsets 0` runs the gated kills alone.

Disk full: a tmpfs of a random size (mount -t tmpfs -o size=…; root) holds the data directory;
three exports are ingested until one fails, the error must say the disk is full, then the mount
is made larger (remount) and the failed ingest and the rest are run again. Where no tmpfs can be
mounted (or with --rlimit-disk) RLIMIT_FSIZE with SIGXFSZ ignored stands in (EFBIG on the file
that grows past the limit, not a full file system); the output says which was used.

Work data goes under /tmp/crash-matrix-*; nothing is written into the repository. Needs root for
the tmpfs mount (else it falls back to RLIMIT_FSIZE, labelled as such) and scripts/postgres.sh
for migrate (skipped, and said so, when PostgreSQL cannot start).

Run:
    scripts/crash_matrix.py                      # 3 offsets per point, a random seed (printed)
    scripts/crash_matrix.py --seed 42            # the same offsets again
    scripts/crash_matrix.py --offsets 5 --only ingest,dispose-execute
    scripts/crash_matrix.py --thorough           # 8 offsets per point
    scripts/crash_matrix.py --offsets 0          # only the gated kills
    RECORDKEEPER_BIN=/path/to/recordkeeper scripts/crash_matrix.py   (default .build/debug/recordkeeper)

Exit status: 0 when every check passed, 1 when any failed (each failure is listed with the
commands that reproduce it; --keep keeps the work directories to look at).
"""

import argparse
import atexit
import base64
import dataclasses
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CUSTODIAN = "k.walsh@cbp.example.gov"
HOLD_NAME = "Crash matrix hold"
HOLD_QUERY = "bridge"
SEARCH_PROBES = ["bridge", "queue", "manifest", "crane"]

TEMPORARY_PLAN = {
    "title": "Crash matrix (temporary)", "fiscal_year_start_month": 10,
    "items": [{"id": "0002", "authority": "DAA-0568-2022-0005-0002", "title": "All other messages",
               "disposition": "temporary", "cutoff": "calendar-year", "retention": {"years": 1}}],
    "rules": [{"id": "everyone", "item": "0002"}],
}
PERMANENT_PLAN = {
    "title": "Crash matrix (permanent)", "fiscal_year_start_month": 10,
    "items": [{"id": "0001", "authority": "DAA-0568-2022-0005-0001", "title": "Permanent messages",
               "disposition": "permanent", "cutoff": "calendar-year", "transfer_after": {"years": 1}}],
    "rules": [{"id": "everyone", "item": "0001"}],
}
# Counts that a kill and a rerun must leave exactly as a clean run leaves them.
STAT_KEYS = ["messages", "attachments", "attachments_missing", "blobs", "blob_bytes", "conversations",
             "custodians", "defects", "unfinished_batches"]

# ---------------------------------------------------------------------------------------------
# Processes and the archive


class Ctx:
    def __init__(self, args):
        self.args = args
        self.root = Path(args.work) if args.work else Path(f"/tmp/crash-matrix-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        self.bin = self.root / "bin" / "recordkeeper"
        self.tokens = {}
        self.children = []
        self.mounts = []
        self.pg_dir = None
        self.pg_url = None
        self.kek = None


CTX = None


def base_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECORDKEEPER_") and not k.startswith("AWS_")}
    env["RECORDKEEPER_WRITE_LOCK_TIMEOUT"] = "60"
    # Chunks of 1,000 messages (default 10,000): a capture commits several times, so kills land
    # between commits as well as inside one.
    env["RECORDKEEPER_INGEST_CHUNK"] = "1000"
    if extra:
        env.update(extra)
    return env


def archive_env(data, user=None, extra=None):
    env = base_env(extra)
    env["RECORDKEEPER_DATA_DIR"] = str(data)
    if user:
        env["RECORDKEEPER_TOKEN"] = CTX.tokens[user]
    return env


def shell_line(args, env):
    shown = [f"{k}={v}" for k, v in sorted(env.items()) if k.startswith("RECORDKEEPER_")]
    quote = lambda s: s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"
    return " ".join(shown + [quote(str(CTX.bin))] + [quote(str(a)) for a in args])


def rk(args, env, timeout=600, check=False):
    r = subprocess.run([str(CTX.bin)] + [str(a) for a in args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"setup step failed ({r.returncode}): {shell_line(args, env)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r


def start(args, env, out_dir, name, preexec=None):
    out_dir.mkdir(parents=True, exist_ok=True)
    out = open(out_dir / f"{name}.out", "wb")
    err = open(out_dir / f"{name}.err", "wb")
    p = subprocess.Popen([str(CTX.bin)] + [str(a) for a in args], env=env, stdout=out, stderr=err,
                         start_new_session=True, preexec_fn=preexec)
    out.close(); err.close()
    CTX.children.append(p)
    return p


def sigkill(p):
    alive = p.poll() is None
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    return alive


def copy_archive(src, dst):
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=True)
    return dst


def ro(data, timeout=10.0):
    return sqlite3.connect(f"file:{data}/archive.sqlite?mode=ro", uri=True, timeout=timeout)


def q1(data, sql, args=(), timeout=10.0):
    con = ro(data, timeout)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def jrun(args, env, timeout=600):
    r = rk(args, env, timeout=timeout)
    try:
        return r, json.loads(r.stdout) if r.stdout.strip() else None
    except json.JSONDecodeError:
        return r, None


def verify(data):
    """`verify --json` on an embedded archive: (ok, short text)."""
    ok, text, _ = verify_json(data)
    return ok, text


def verify_json(data):
    """`verify --json` on an embedded archive: (ok, short text, the report)."""
    r, j = jrun(["verify", "--json"], archive_env(data))
    ok, text = verify_text(r, j)
    return ok, text, j or {}


def verify_text(r, j):
    if r.returncode == 0:
        lag = (j or {}).get("not_yet_indexed") or 0
        return True, "ok" + (f" (index lag {lag})" if lag else "")
    codes = {}
    if j:
        for p in j.get("problems", []) or []:
            codes.setdefault(p.get("code"), []).append(p.get("item"))
    problems = [f"{code} {items[0]}" + (f" (+{len(items) - 1} more)" if len(items) > 1 else "") for code, items in codes.items()]
    text = "; ".join(problems) or (r.stderr.strip().splitlines() or ["?"])[-1]
    return False, f"exit {r.returncode}: {text}"


def stats(data):
    r, j = jrun(["stats", "--json"], archive_env(data, "admin1"))
    if r.returncode != 0 or j is None:
        raise RuntimeError(f"stats failed: {r.stderr.strip()}")
    return j


def digest(data):
    """What the archive holds, independent of row ids."""
    con = ro(data)
    try:
        def h(sql):
            d = hashlib.sha256()
            n = 0
            for row in con.execute(sql):
                d.update(("|".join("" if v is None else str(v) for v in row) + "\n").encode())
                n += 1
            return n, d.hexdigest()[:16]
        out = {
            # content_hash covers the capture time, so it differs between two clean runs: the
            # identity, the text and where it came from are compared instead.
            "message": h("SELECT identity_key, sender, kind, sent_at, time_zone, body, source_member, source_line FROM message ORDER BY identity_key"),
            "attachment": h("SELECT m.identity_key, a.position, a.file_name, a.blob_hash FROM attachment a JOIN message m ON m.id = a.message_id ORDER BY 1, 2"),
            "tombstone": h("SELECT identity_key, outcome, item_id, authority FROM tombstone ORDER BY identity_key"),
            "live_blob": h("SELECT hash, size FROM blob WHERE destroyed_by IS NULL ORDER BY hash"),
            "hold": h("SELECT name, matter, scope, released_at IS NULL FROM legal_hold ORDER BY name, id"),
            "retention": h("SELECT m.identity_key, r.item_id, r.eligible FROM retention_assignment r JOIN message m ON m.id = r.message_id ORDER BY 1"),
        }
        out["duplicate_identities"] = con.execute("SELECT count(*) - count(DISTINCT identity_key) FROM message").fetchone()[0]
        return out
    finally:
        con.close()


def blob_files(data):
    names = set()
    for _, _, files in os.walk(Path(data) / "blobs"):
        names.update(f for f in files if re.fullmatch(r"[0-9a-f]{64}", f))
    return names


def blob_report(data):
    """(orphan files, recorded-but-missing files, files of destroyed blobs still on disk)."""
    files = blob_files(data)
    con = ro(data)
    try:
        live = {r[0] for r in con.execute("SELECT hash FROM blob WHERE destroyed_by IS NULL")}
        dead = {r[0] for r in con.execute("SELECT hash FROM blob WHERE destroyed_by IS NOT NULL")}
    finally:
        con.close()
    return len(files - live - dead), len(live - files), len(files & dead)


def compare(got, want, what):
    """Differences between two dicts of counts, as text."""
    diffs = []
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k):
            diffs.append(f"{what}.{k}: {got.get(k)} vs clean {want.get(k)}")
    return diffs


def count_check(data, ref):
    """Compares stats and digests with the clean reference; returns a list of differences."""
    s = stats(data)
    diffs = compare({k: s.get(k) for k in STAT_KEYS}, {k: ref["stats"].get(k) for k in STAT_KEYS}, "stats")
    diffs += compare(digest(data), ref["digest"], "digest")
    return diffs


def incident_check(t, data):
    """A verify that fails opens an unauthorized-disposition incident (36 CFR 1230.14, a report to
    NARA due in 30 days); one opened because of a kill is a false report and counts as a failure."""
    n = q1(data, "SELECT count(*) FROM ud_incident WHERE source = 'verify'")
    if n:
        t.fail(f"{n} unauthorized-disposition incident(s) opened by verify (36 CFR 1230.14 report due), still open after the rerun")


def after_rerun(t, data, ref):
    """The checks after every rerun: verify passes, counts equal the clean run's, no incident."""
    ok, text = verify(data)
    t.verify_end = "ok" if ok else text
    if not ok:
        t.fail(f"verify after the rerun: {text}")
    diffs = count_check(data, ref)
    incident_check(t, data)
    t.counts = "equal" if not diffs else "DIFFER"
    for d in diffs:
        t.fail(d)


def fmt_n(n):
    return f"{n:,}"


# ---------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass
class Trial:
    point: str
    label: str
    offset: str = ""
    landed: str = ""
    state: str = ""
    verify_kill: str = ""
    rerun: str = ""
    verify_end: str = ""
    counts: str = ""
    secs: float = 0.0
    failures: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    repro: list = dataclasses.field(default_factory=list)
    counted: bool = True   # the kill landed mid-work
    retry_window: tuple = None  # set when the child finished before the kill

    def fail(self, text):
        self.failures.append(text)


class Point:
    name = ""
    title = ""

    def prepare(self):
        """Templates and the clean reference; sets self.window = (lo, hi) seconds."""

    def trial(self, k, frac, window=None):
        raise NotImplementedError

    def gated(self):
        return []


def wait_ready(p, path, needle, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if p.poll() is not None:
            return None
        text = path.read_text(errors="replace") if path.exists() else ""
        if needle in text:
            return text
        time.sleep(0.02)
    return None


def measured(args, env, out_dir, name, probe=None, timeout=600):
    """Runs a command to its end, noting when the probe first saw work and when it ended."""
    t0 = time.monotonic()
    p = start(args, env, out_dir, name)
    first = None
    while p.poll() is None:
        if first is None and probe is not None:
            try:
                if probe():
                    first = time.monotonic() - t0
            except Exception:
                pass
        if time.monotonic() - t0 > timeout:
            sigkill(p)
            raise RuntimeError(f"{name} took longer than {timeout} s")
        time.sleep(0.005 if first is None else 0.02)
    end = time.monotonic() - t0
    out = (out_dir / f"{name}.out").read_text(errors="replace")
    err = (out_dir / f"{name}.err").read_text(errors="replace")
    if p.returncode != 0:
        raise RuntimeError(f"clean run of {name} failed ({p.returncode}): {shell_line(args, env)}\n{err[-2000:]}")
    return first if first is not None else 0.0, end, out, err


def kill_at(p, t0, offset, t=None, lo=0.0, hi=None):
    """Sleeps until `offset` seconds after t0 (or the child's end), then kill -9; alive at kill?
    When the child had finished first, `t.retry_window` is the window rescaled to its real length."""
    while time.monotonic() - t0 < offset and p.poll() is None:
        time.sleep(0.002)
    elapsed = time.monotonic() - t0
    alive = sigkill(p)
    if not alive and t is not None and hi:
        t.retry_window = (lo * elapsed / hi, elapsed)
    return alive


def ro_exists(data, sql):
    def probe():
        if not (Path(data) / "archive.sqlite").exists():
            return False
        return bool(q1(data, sql, timeout=0.05))
    return probe


# ---------------------------------------------------------------------------------------------
# Gate: take the SQLite write lock the moment a commit is visible, so the child stops at its next
# write; it is then killed there. The gate process is itself killed (no rollback, no checkpoint by
# us): the next command finds the log as a crash leaves it.

GATE_CODE = r"""
import os, sqlite3, sys, time
db, mode, cond, guard, timeout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
deadline = time.time() + timeout
con = None
w = None
while time.time() < deadline:
    try:
        if w is None and os.path.exists(db):
            w = sqlite3.connect(db, timeout=30, isolation_level=None)  # opened before it is needed
            w.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if mode == "path":
            if os.path.exists(cond): break
        else:
            if con is None and os.path.exists(db):
                con = sqlite3.connect("file:" + db + "?mode=ro", uri=True, timeout=0.05, isolation_level=None)
            if con is not None and con.execute(cond).fetchone()[0]: break
    except sqlite3.Error:
        pass
    time.sleep(0.0005)
else:
    print("timeout", flush=True); sys.stdin.read(); sys.exit(0)
w = w or sqlite3.connect(db, timeout=30, isolation_level=None)
w.execute("BEGIN IMMEDIATE")
print("held" if w.execute(guard).fetchone()[0] else "missed", flush=True)
sys.stdin.read()
"""


def gated(template, workdir, run):
    """Up to three tries (a fresh copy each) until the gate holds; returns (data, outcome, alive, tries)."""
    for attempt in range(1, 4):
        data = copy_archive(template, workdir / "data")
        for leftover in ("bag", "bag.partial"):
            if (workdir / leftover).exists():
                shutil.rmtree(workdir / leftover)
        outcome, alive = run(data)
        if outcome == "held":
            break
    return data, outcome, alive, attempt


def gated_kill(args, env, out_dir, name, data, mode, cond, guard, timeout=300):
    """Starts the child with a gate; returns (gate outcome, child alive at kill)."""
    gate = subprocess.Popen([sys.executable, "-c", GATE_CODE, f"{data}/archive.sqlite", mode, cond, guard, str(timeout)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
    CTX.children.append(gate)
    time.sleep(0.15)  # the gate is polling before the child starts
    p = start(args, env, out_dir, name)
    outcome, ended = None, None
    while outcome is None:
        ready, _, _ = select.select([gate.stdout], [], [], 0.05)
        if ready:
            outcome = gate.stdout.readline().strip() or "gate died"
        elif p.poll() is not None:
            ended = ended or time.monotonic()
            if time.monotonic() - ended > 2:
                outcome = "not reached: the child ended first"
    if outcome == "held":
        time.sleep(0.3)  # the child reaches its next write and waits there
    alive = sigkill(p)
    sigkill(gate)
    return outcome, alive


# ---------------------------------------------------------------------------------------------
# Common setup


def setup_base():
    """An archive with two records officers (admin1, linked to this OS account, and bob) and a token each."""
    base = CTX.root / "templates" / "base"
    env = archive_env(base)
    rk(["init"], env, check=True)
    login = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip() or "root"
    rk(["user", "add", "admin1", "--role", "admin", "--role", "records-officer", "--os-account", login], env, check=True)
    rk(["user", "add", "bob", "--role", "records-officer"], env, check=True)
    for user in ("admin1", "bob"):
        r = rk(["user", "token", "create", user, "--label", "crash matrix"], env, check=True)
        m = re.search(r"\brk_\w+", r.stdout)
        if not m:
            raise RuntimeError(f"no token in: {r.stdout}")
        CTX.tokens[user] = m.group(0)
    return base


def sample_export(name, messages, seed, title, media_every, style="androidZip"):
    out = CTX.root / "exports" / name
    rk(["sample-export", "--messages", messages, "--style", style, "--seed", seed, "--title", title,
        "--media-every", media_every, "--out", out], base_env(), check=True)
    files = sorted(p for p in out.iterdir() if p.is_file())
    return files[0]


def ingest_cmd(export):
    return ["ingest", str(export), "--custodian", CUSTODIAN, "--timezone", "UTC", "--json"]


def reference(data):
    return {"stats": stats(data), "digest": digest(data)}


def state_counts(data):
    """A short account of what the archive holds right now (after a kill)."""
    con = ro(data)
    try:
        msgs = con.execute("SELECT count(*) FROM message").fetchone()[0]
        running = con.execute("SELECT count(*) FROM capture_batch WHERE status = 'running'").fetchone()[0]
    finally:
        con.close()
    return msgs, running


# ---------------------------------------------------------------------------------------------
# Points


class IngestPoint(Point):
    name = "ingest"

    def prepare(self):
        self.export = CTX.export_main
        self.title = f"kill -9 `ingest` of a {fmt_n(CTX.sizes['main'])}-message WhatsApp zip with attachments"
        ref = copy_archive(CTX.base, CTX.root / "ref" / self.name)
        lo, hi, out, _ = measured(ingest_cmd(self.export), archive_env(ref, "admin1"), CTX.root / "ref", self.name,
                                  probe=ro_exists(ref, "SELECT count(*) FROM capture_batch"))
        self.window = (lo, hi)
        self.ref = reference(ref)
        self.total = self.ref["stats"]["messages"]

    def check_after(self, t, data, env, cmd, rerun_args=None):
        ok, text, report = verify_json(data)
        t.verify_kill = text if not ok else "ok"
        codes = {p.get("code") for p in report.get("problems", []) or []}
        if not ok and codes == {"batch_not_vouched"}:
            # Killed between storing the batch and signing the checkpoint that vouches for it: by
            # design a person checks the batch against its export and vouches for the entry
            # verify names (an unvouched batch may be forged); no incident (an addition is not a
            # disposition).
            details = [p.get("detail", "") for p in report.get("problems", [])]
            vouch = [m.group(1) for d in details for m in [re.search(r"--vouch (batch:\d+@\d+)", d)] if m]
            if len(vouch) != 1:
                t.fail(f"verify after the kill named {len(details)} unvouched batch(es), expected the killed run's one: {text}")
            for target in vouch:
                v = rk(["checkpoint", "sign", "--vouch", target, "--reason", "checked against its export after a crash"], env)
                t.repro.append(shell_line(["checkpoint", "sign", "--vouch", target], env) + "   # a person vouches after checking")
                if v.returncode != 0:
                    t.fail(f"vouching for {target} failed: {(v.stderr.strip().splitlines() or ['?'])[-1]}")
            t.notes.append("killed between storing the batch and its checkpoint: verify names the batch (no incident); "
                           "a person checks it against the export and vouches (`checkpoint sign --vouch`)")
        elif not ok:
            t.fail(f"verify after the kill: {text}")
        r = rk(rerun_args or cmd, env)
        if r.returncode == 0:
            try:
                j = json.loads(r.stdout.strip().splitlines()[-1])
                t.rerun = f"ok (+{fmt_n(j.get('messages_added', 0))}{', resumed' if j.get('resumed_batch') else ''})"
            except (json.JSONDecodeError, IndexError):
                t.rerun = "ok"
        else:
            t.rerun = f"exit {r.returncode}"
            t.fail(f"rerun exited {r.returncode}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
        after_rerun(t, data, self.ref)
        t.repro.append(shell_line(rerun_args or cmd, env) + "   # rerun")

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        data = copy_archive(CTX.base, CTX.root / self.name / f"t{k}" / "data")
        env = archive_env(data, "admin1")
        cmd = ingest_cmd(self.export)
        lo, hi = window or self.window
        offset = lo + frac * (hi - lo)
        t.offset = f"{offset:.2f}s"
        t0 = time.monotonic()
        p = start(cmd, env, data.parent, "child")
        alive = kill_at(p, t0, offset, t, lo, hi)
        msgs, running = state_counts(data)
        t.counted = alive
        t.landed = (f"y ({fmt_n(msgs)}/{fmt_n(self.total)} msgs)" if alive else "n (finished first)")
        t.state = f"{fmt_n(msgs)} msgs, {running} unfinished batch"
        t.repro.append(shell_line(cmd, env) + f"   # kill -9 after {offset:.2f} s")
        self.check_after(t, data, env, cmd)
        return t

    def gated(self):
        t = Trial(self.name, "gate")
        t.offset = "gate"
        cmd = ingest_cmd(self.export)
        data, outcome, alive, tries = gated(CTX.base, CTX.root / self.name / "gate", lambda data: gated_kill(
            cmd, archive_env(data, "admin1"), data.parent, "child", data, "sql",
            "SELECT count(*) FROM capture_batch WHERE status = 'complete'",
            "SELECT count(*) = 0 FROM audit_log WHERE action = 'checkpoint' AND seq > (SELECT max(seq) FROM audit_log WHERE action = 'ingest')"))
        env = archive_env(data, "admin1")
        t.counted = outcome == "held" and alive
        t.landed = "y (capture committed, checkpoint not signed)" if t.counted else f"n (gate {outcome}, {tries} tries)"
        msgs, running = state_counts(data)
        t.state = f"{fmt_n(msgs)} msgs, {running} unfinished batch"
        t.repro.append(shell_line(cmd, env) + "   # killed after the batch's commit, before its checkpoint (gate)")
        self.check_after(t, data, env, cmd)
        return [t]


class UploadPoint(IngestPoint):
    name = "upload"

    def prepare(self):
        self.export = CTX.export_main
        self.title = f"kill -9 `serve` while it captures an upload (POST /api/v1/ingest, {fmt_n(CTX.sizes['main'])} messages)"
        ref = copy_archive(CTX.base, CTX.root / "ref" / self.name / "data")
        server, url = self.serve(ref, "ref-serve")
        t0 = time.monotonic()
        up = self.upload(url, ref.parent / "ref-upload.json")
        first = None
        while up.poll() is None:
            if first is None and ro_exists(ref, "SELECT count(*) FROM capture_batch")():
                first = time.monotonic() - t0
            time.sleep(0.005)
        hi = time.monotonic() - t0
        self.stop(server)
        if up.returncode != 0 or '"batches"' not in (ref.parent / "ref-upload.json").read_text(errors="replace"):
            raise RuntimeError(f"clean upload failed: {(ref.parent / 'ref-upload.json').read_text(errors='replace')[:500]}")
        self.window = (first or 0.0, hi)
        self.ref = reference(ref)
        self.total = self.ref["stats"]["messages"]

    def serve(self, data, name):
        env = archive_env(data)
        p = start(["serve", "--data-dir", data, "--port", "0"], env, data.parent, name)
        text = wait_ready(p, data.parent / f"{name}.out", "Stop with Ctrl-C.")
        if text is None:
            raise RuntimeError(f"serve did not start: {(data.parent / f'{name}.err').read_text(errors='replace')[-1500:]}")
        return p, re.search(r"http://127\.0\.0\.1:\d+", text).group(0)

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sigkill(p)

    def upload(self, url, out):
        p = subprocess.Popen(["curl", "-s", "-o", str(out), "-w", "%{http_code}", "-H", f"Authorization: Bearer {CTX.tokens['admin1']}",
                              "-F", f"custodian={CUSTODIAN}", "-F", "time_zone=UTC", "-F", f"file=@{self.export}", f"{url}/api/v1/ingest"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        CTX.children.append(p)
        return p

    def upload_cmd(self, url):
        return (f"curl -s -H 'Authorization: Bearer {CTX.tokens['admin1']}' -F custodian={CUSTODIAN} -F time_zone=UTC "
                f"-F 'file=@{self.export}' {url}/api/v1/ingest")

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        data = copy_archive(CTX.base, CTX.root / self.name / f"t{k}" / "data")
        server, url = self.serve(data, "serve")
        lo, hi = window or self.window
        offset = lo + frac * (hi - lo)
        t.offset = f"{offset:.2f}s"
        t0 = time.monotonic()
        up = self.upload(url, data.parent / "upload.json")
        alive_upload = True
        while time.monotonic() - t0 < offset and up.poll() is None:
            time.sleep(0.002)
        alive_upload = up.poll() is None
        if not alive_upload:
            elapsed = time.monotonic() - t0
            t.retry_window = (lo * elapsed / hi, elapsed)
        sigkill(server)
        up.wait()
        msgs, running = state_counts(data)
        t.counted = alive_upload
        t.landed = (f"y ({fmt_n(msgs)}/{fmt_n(self.total)} msgs)" if alive_upload else "n (upload answered first)")
        t.state = f"{fmt_n(msgs)} msgs, {running} unfinished batch"
        t.repro.append(f"{shell_line(['serve', '--data-dir', data, '--port', '0'], archive_env(data))} &  "
                       f"{self.upload_cmd(url)}   # kill -9 the server {offset:.2f} s into the upload")
        ok, text = verify(data)
        t.verify_kill = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the kill: {text}")
        server, url = self.serve(data, "serve2")
        up = self.upload(url, data.parent / "upload2.json")
        code, _ = up.communicate(timeout=600)
        self.stop(server)
        body = (data.parent / "upload2.json").read_text(errors="replace")
        if code.strip() in ("200", "201"):
            try:
                b = json.loads(body)["batches"][0]
                t.rerun = f"ok (+{fmt_n(b.get('messages_added', 0))}{', resumed' if b.get('resumed_batch') else ''})"
            except (KeyError, IndexError, json.JSONDecodeError):
                t.rerun = "ok"
        else:
            t.rerun = f"HTTP {code.strip()}"
            t.fail(f"the upload again answered HTTP {code.strip()}: {body[:300]}")
        after_rerun(t, data, self.ref)
        return t

    def gated(self):
        return []


class IndexPoint(Point):
    name = "index"

    def prepare(self):
        self.title = (f"kill -9 `index rebuild` ({fmt_n(CTX.sizes['main'])} messages, RECORDKEEPER_INDEX_BATCH={CTX.index_batch}); "
                      "resumed with `index catch-up`")
        ref = copy_archive(CTX.data, CTX.root / "ref" / self.name)
        env = archive_env(ref, "admin1", {"RECORDKEEPER_INDEX_BATCH": str(CTX.index_batch)})
        lo, hi, _, _ = measured(["index", "rebuild"], env, CTX.root / "ref", self.name,
                                probe=ro_exists(ref, "SELECT indexed_through < (SELECT max(id) FROM message) FROM search_index_state"))
        self.window = (lo, hi)
        self.ref = reference(ref)
        self.ref["search"] = self.searches(ref)
        self.total = self.ref["stats"]["messages"]

    def searches(self, data):
        out = {}
        for word in SEARCH_PROBES:
            r, j = jrun(["search", word, "--json", "--limit", "1"], archive_env(data, "admin1"))
            out[word] = (j or {}).get("total"), ((j or {}).get("coverage") or {}).get("complete")
        return out

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        data = copy_archive(CTX.data, CTX.root / self.name / f"t{k}" / "data")
        env = archive_env(data, "admin1", {"RECORDKEEPER_INDEX_BATCH": str(CTX.index_batch)})
        lo, hi = window or self.window
        offset = lo + frac * (hi - lo)
        t.offset = f"{offset:.2f}s"
        t0 = time.monotonic()
        p = start(["index", "rebuild"], env, data.parent, "child")
        alive = kill_at(p, t0, offset, t, lo, hi)
        mark = q1(data, "SELECT indexed_through FROM search_index_state")
        t.counted = alive
        t.landed = f"y (indexed through {fmt_n(mark)}/{fmt_n(self.total)})" if alive else "n (finished first)"
        r, j = jrun(["index", "status", "--json"], env)
        cov = (j or {}).get("coverage") or {}
        t.state = f"{fmt_n(cov.get('not_yet_searchable', -1))} not yet searchable"
        t.repro.append(shell_line(["index", "rebuild"], env) + f"   # kill -9 after {offset:.2f} s")
        ok, text = verify(data)
        t.verify_kill = text if ok else text
        if not ok:
            t.fail(f"verify after the kill: {text}")
        r = rk(["index", "catch-up"], env)
        t.rerun = "ok" if r.returncode == 0 and "Search covers every captured message." in r.stdout else f"exit {r.returncode}"
        if t.rerun != "ok":
            t.fail(f"index catch-up: exit {r.returncode}: {r.stdout.strip()[-200:]} {r.stderr.strip()[-200:]}")
        t.repro.append(shell_line(["index", "catch-up"], env) + "   # resume")
        ok, text = verify(data)
        t.verify_end = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the rerun: {text}")
        diffs = count_check(data, self.ref)
        got = self.searches(data)
        for word, want in self.ref["search"].items():
            if got[word] != want:
                diffs.append(f"search '{word}': {got[word]} vs clean {want}")
        incident_check(t, data)
        t.counts = "equal" if not diffs else "DIFFER"
        for d in diffs:
            t.fail(d)
        return t


class DestroyPoint(Point):
    """dispose execute (destruction) and transfer confirm (records become tombstones)."""
    name = "dispose-execute"
    user = "bob"

    def template(self):
        return CTX.dispose_template

    def command(self):
        return ["dispose", "execute", str(CTX.dispose_id), "--json"]

    def batch_id(self):
        return CTX.dispose_id

    def prepare(self):
        self.title = (f"kill -9 `dispose execute` of an approved batch ({fmt_n(CTX.dispose_records)} records due, "
                      "as the second records officer)")
        ref = copy_archive(self.template(), CTX.root / "ref" / self.name)
        env = archive_env(ref, self.user)
        lock = ref / "write.lock"
        lo, hi, _, _ = measured(self.command(), env, CTX.root / "ref", self.name,
                                probe=lambda: lock.exists() and lock.stat().st_size > 0)
        self.window = (lo, hi)
        self.ref = reference(ref)
        self.ref["cert"] = self.certificate(ref)

    def certificate(self, data):
        cert = q1(data, "SELECT certificate FROM disposition_batch WHERE id = ?", (self.batch_id(),))
        if not cert:
            return None
        c = json.loads(cert)
        return {"records": c.get("records"), "disposed_hashes_digest": c.get("disposed_hashes_digest"),
                "blobs_destroyed": c.get("blobs_destroyed"), "sanitization": c.get("sanitization")}

    def classify(self, data):
        """not started / destroyed, not certified / complete / PARTIAL."""
        con = ro(data)
        try:
            bid = self.batch_id()
            status, cert = con.execute("SELECT status, certificate FROM disposition_batch WHERE id = ?", (bid,)).fetchone()
            members = con.execute("SELECT count(*) FROM disposition_member WHERE disposition_id = ?", (bid,)).fetchone()[0]
            pending = con.execute("SELECT count(*) FROM disposition_member WHERE disposition_id = ? AND state = 'pending'", (bid,)).fetchone()[0]
            disposed = con.execute("SELECT count(*) FROM disposition_member WHERE disposition_id = ? AND state = 'disposed'", (bid,)).fetchone()[0]
            tombs = con.execute("SELECT count(*) FROM tombstone WHERE disposition_id = ?", (bid,)).fetchone()[0]
            gone = con.execute("SELECT count(*) FROM disposition_member dm WHERE disposition_id = ? AND NOT EXISTS "
                               "(SELECT 1 FROM message m WHERE m.id = dm.message_id)", (bid,)).fetchone()[0]
        finally:
            con.close()
        if status in ("approved", "packaged") and tombs == 0 and gone == 0 and disposed == 0:
            return "not started", True
        if status == "executed" and pending == 0 and tombs == disposed == gone and disposed > 0:
            if cert:
                return "complete, certified", True
            return "destroyed, NOT certified", False
        return f"PARTIAL: status {status}, {tombs} tombstones, {gone} messages gone, {pending}/{members} pending, certificate {'yes' if cert else 'no'}", False

    # What verify may name when the kill came after the records left and before the checkpoint
    # vouching for that was signed: such an act is never finished automatically (it could be a
    # forged one); a records officer checks it and runs the same command again.
    UNVOUCHED = {"disposition_not_vouched", "certificate_missing", "destroyed_blob_present"}

    def check_after(self, t, data, env):
        state, whole = self.classify(data)
        ok, text, report = verify_json(data)
        expect_incident = False
        if state == "destroyed, NOT certified":
            codes = {p.get("code") for p in report.get("problems", []) or []}
            if ok and self.batch_id() in (report.get("dispositions_finished") or []):
                state, whole = "destroyed, NOT certified → finished by verify (vouched for)", True
                state = state if self.classify(data)[0] == "complete, certified" else state + " BUT NOT COMPLETE"
                whole = "NOT COMPLETE" not in state
            elif not ok and codes and codes <= self.UNVOUCHED and "disposition_not_vouched" in codes:
                state, whole, expect_incident = "destroyed (keys gone), NOT certified, not vouched → records officer", True, True
                # The records officer's part: check it, then vouch for the entry verify names.
                detail = next((p.get("detail", "") for p in report.get("problems", []) if p.get("code") == "disposition_not_vouched"), "")
                m = re.search(r"--vouch (disposition:\d+@\d+)", detail)
                if m:
                    v = rk(["checkpoint", "sign", "--vouch", m.group(1), "--reason", "checked after a crash"], env)
                    t.repro.append(shell_line(["checkpoint", "sign", "--vouch", m.group(1)], env) + "   # the records officer vouches")
                    if v.returncode != 0:
                        t.fail(f"vouching for {m.group(1)} failed: {(v.stderr.strip().splitlines() or ['?'])[-1]}")
                else:
                    t.fail(f"verify did not name the entry to vouch for: {detail}")
                t.notes.append("killed in the instant between the records leaving (their files' keys with them) and the checkpoint "
                               "that vouches for it: verify names it and opens an incident (an unvouched execution may be forged); "
                               "a records officer vouches for it (`checkpoint sign --vouch`), and the rerun finishes it")
        t.state = state
        if not whole:
            t.fail(f"half-done destructive act after the kill: {state}")
        t.verify_kill = "ok" if ok else text
        if not ok and not expect_incident:
            t.fail(f"verify after the kill: {text}")
        r = rk(self.command(), env)
        t.rerun = "ok" if r.returncode == 0 else f"exit {r.returncode}"
        if r.returncode != 0:
            t.fail(f"rerun exited {r.returncode}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
        t.repro.append(shell_line(self.command(), env) + "   # rerun")
        state2, _ = self.classify(data)
        if state2 != "complete, certified":
            t.fail(f"after the rerun: {state2}")
        ok, text = verify(data)
        t.verify_end = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the rerun: {text}")
        diffs = count_check(data, self.ref)
        cert = self.certificate(data)
        for k in ("records", "disposed_hashes_digest"):
            if (cert or {}).get(k) != self.ref["cert"].get(k):
                diffs.append(f"certificate {k}: {(cert or {}).get(k)} vs clean {self.ref['cert'].get(k)}")
        if cert and cert.get("blobs_destroyed") != self.ref["cert"].get("blobs_destroyed"):
            t.notes.append(f"certificate blobs_destroyed {cert.get('blobs_destroyed')} vs clean {self.ref['cert'].get('blobs_destroyed')} "
                           "(files the killed run had already destroyed)")
        if cert and cert.get("sanitization") != self.ref["cert"].get("sanitization"):
            t.notes.append(f"the certificate's sanitization differs from the clean run's: \"{cert.get('sanitization')}\" "
                           f"vs \"{self.ref['cert'].get('sanitization')}\"")
        orphans, missing, dead_files = blob_report(data)
        if dead_files:
            diffs.append(f"{dead_files} file(s) of destroyed blobs still on disk")
        if orphans:
            t.notes.append(f"{orphans} orphan blob file(s) on disk")
        if expect_incident:
            n = q1(data, "SELECT count(*) FROM ud_incident WHERE source = 'verify'")
            if n != 1:
                t.fail(f"expected the one incident verify opens for an unvouched execution, found {n}")
        else:
            incident_check(t, data)
        t.counts = "equal" if not diffs else "DIFFER"
        for d in diffs:
            t.fail(d)

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        data = copy_archive(self.template(), CTX.root / self.name / f"t{k}" / "data")
        env = archive_env(data, self.user)
        lo, hi = window or self.window
        offset = lo + frac * (hi - lo)
        t.offset = f"{offset:.2f}s"
        t0 = time.monotonic()
        p = start(self.command(), env, data.parent, "child")
        alive = kill_at(p, t0, offset, t, lo, hi)
        t.counted = alive
        t.landed = "y" if alive else "n (finished first)"
        t.repro.append(shell_line(self.command(), env) + f"   # kill -9 after {offset:.2f} s")
        self.check_after(t, data, env)
        return t

    def gated(self):
        t = Trial(self.name, "gate")
        t.offset = "gate"
        bid = self.batch_id()
        data, outcome, alive, tries = gated(self.template(), CTX.root / self.name / "gate", lambda data: gated_kill(
            self.command(), archive_env(data, self.user), data.parent, "child", data, "sql",
            f"SELECT count(*) FROM disposition_batch WHERE id = {bid} AND status = 'executed'",
            f"SELECT certificate IS NULL FROM disposition_batch WHERE id = {bid}"))
        env = archive_env(data, self.user)
        t.counted = outcome == "held" and alive
        t.landed = "y (destruction committed, no certificate yet)" if t.counted else f"n (gate {outcome}, {tries} tries)"
        t.repro.append(shell_line(self.command(), env) + "   # killed after the destruction's commit, before the certificate (gate)")
        self.check_after(t, data, env)
        return [t]


class ConfirmPoint(DestroyPoint):
    name = "transfer-confirm"
    user = "admin1"

    def template(self):
        return CTX.confirm_template

    def command(self):
        return ["transfer", "confirm", str(CTX.transfer_id), "--accession", "NN-0568-2026-0001", "--json"]

    def batch_id(self):
        return CTX.transfer_id

    def prepare(self):
        super().prepare()
        self.title = f"kill -9 `transfer confirm` of a packaged transfer ({fmt_n(CTX.transfer_records)} records become tombstones)"


class PackagePoint(Point):
    name = "transfer-package"

    def command(self, bag):
        return ["transfer", "package", str(CTX.transfer_id), "--output", str(bag), "--json"]

    def prepare(self):
        self.title = f"kill -9 `transfer package` of an approved transfer ({fmt_n(CTX.transfer_records)} records into a BagIt bag)"
        ref = copy_archive(CTX.transfer_template, CTX.root / "ref" / self.name / "data")
        bag = ref.parent / "bag"
        partial = ref.parent / "bag.partial"
        lo, hi, _, _ = measured(self.command(bag), archive_env(ref, "admin1"), ref.parent, "ref", probe=partial.exists)
        self.window = (lo, hi)
        self.ref = reference(ref)
        self.ref_manifest = (bag / "manifest-sha256.txt").read_bytes()
        self.ref_digest = q1(ref, "SELECT bag_digest FROM disposition_batch WHERE id = ?", (CTX.transfer_id,))

    @staticmethod
    def bag_problems(bag):
        problems = []
        for f in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"):
            if not (bag / f).exists():
                problems.append(f"missing {f}")
        if problems:
            return problems
        n = size = 0
        for line in (bag / "manifest-sha256.txt").read_text().splitlines():
            digest_hex, path = line.split("  ", 1)
            data = (bag / path).read_bytes() if (bag / path).exists() else None
            if data is None:
                problems.append(f"missing {path}")
            elif hashlib.sha256(data).hexdigest() != digest_hex:
                problems.append(f"{path} does not match the manifest")
            else:
                n += 1; size += len(data)
        oxum = re.search(r"Payload-Oxum: (\d+)\.(\d+)", (bag / "bag-info.txt").read_text())
        if not oxum or (int(oxum.group(1)), int(oxum.group(2))) != (size, n):
            problems.append("Payload-Oxum does not match the payload")
        return problems

    def status(self, data):
        return q1(data, "SELECT status FROM disposition_batch WHERE id = ?", (CTX.transfer_id,))

    def check_after(self, t, data, env, bag):
        status = self.status(data)
        partial = bag.parent / (bag.name + ".partial")
        where = "bag in place" if bag.exists() else ("partial bag only" if partial.exists() else "no bag")
        t.state = f"{status}, {where}"
        if bag.exists():
            bad = self.bag_problems(bag)
            if bad:
                t.fail(f"an incomplete bag under the final name after the kill: {'; '.join(bad[:3])}")
        if status == "packaged" and not bag.exists():
            t.fail("the batch is marked packaged but no bag is in place")
        ok, text = verify(data)
        t.verify_kill = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the kill: {text}")
        r = rk(self.command(bag), env)
        if r.returncode == 0:
            t.rerun = "ok"
        elif status == "packaged" and "already packaged" in r.stderr:
            t.rerun = "ok (already packaged)"
        elif "already exists and is not empty; choose a new directory" in r.stderr:
            # What the error says to do: a new --output. The first bag stays, complete but unrecorded.
            t.notes.append(f"the same command refused: {r.stderr.strip().splitlines()[-1]}; "
                           f"rerun with a new --output, as it says; a complete bag the archive never recorded stays at {bag}")
            t.repro.append(shell_line(self.command(bag), env) + "   # refused: the bag exists")
            bag = bag.parent / "bag-2"
            r = rk(self.command(bag), env)
            t.rerun = "ok (new --output)" if r.returncode == 0 else f"exit {r.returncode}"
            if r.returncode != 0:
                t.fail(f"rerun with a new --output exited {r.returncode}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
        else:
            t.rerun = f"exit {r.returncode}"
            t.fail(f"rerun exited {r.returncode}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
        t.repro.append(shell_line(self.command(bag), env) + "   # rerun")
        ok, text = verify(data)
        t.verify_end = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the rerun: {text}")
        diffs = count_check(data, self.ref)
        if self.status(data) != "packaged":
            diffs.append(f"batch status {self.status(data)} after the rerun, not packaged")
        if not bag.exists():
            diffs.append("no bag after the rerun")
        else:
            bad = self.bag_problems(bag)
            diffs += [f"bag: {b}" for b in bad[:3]]
            if (bag / "manifest-sha256.txt").exists() and (bag / "manifest-sha256.txt").read_bytes() != self.ref_manifest:
                diffs.append("bag manifest differs from the clean run's")
        digest_now = q1(data, "SELECT bag_digest FROM disposition_batch WHERE id = ?", (CTX.transfer_id,))
        if digest_now != self.ref_digest:
            diffs.append(f"recorded bag digest {str(digest_now)[:12]} vs clean {str(self.ref_digest)[:12]}")
        if partial.exists():
            t.notes.append(f"{partial} left behind")
        incident_check(t, data)
        t.counts = "equal" if not diffs else "DIFFER"
        for d in diffs:
            t.fail(d)

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        data = copy_archive(CTX.transfer_template, CTX.root / self.name / f"t{k}" / "data")
        bag = data.parent / "bag"
        env = archive_env(data, "admin1")
        lo, hi = window or self.window
        offset = lo + frac * (hi - lo)
        t.offset = f"{offset:.2f}s"
        t0 = time.monotonic()
        p = start(self.command(bag), env, data.parent, "child")
        alive = kill_at(p, t0, offset, t, lo, hi)
        partial = bag.parent / "bag.partial"
        files = sum(len(f) for _, _, f in os.walk(partial)) if partial.exists() else 0
        t.counted = alive
        t.landed = f"y ({files} files written)" if alive else "n (finished first)"
        t.repro.append(shell_line(self.command(bag), env) + f"   # kill -9 after {offset:.2f} s")
        self.check_after(t, data, env, bag)
        return t

    def gated(self):
        t = Trial(self.name, "gate")
        t.offset = "gate"
        work = CTX.root / self.name / "gate"
        bag = work / "bag"
        data, outcome, alive, tries = gated(CTX.transfer_template, work, lambda data: gated_kill(
            self.command(bag), archive_env(data, "admin1"), data.parent, "child", data, "path", str(bag),
            f"SELECT status = 'approved' FROM disposition_batch WHERE id = {CTX.transfer_id}"))
        env = archive_env(data, "admin1")
        t.counted = outcome == "held" and alive
        t.landed = "y (bag in place, batch not marked packaged)" if t.counted else f"n (gate {outcome}, {tries} tries)"
        t.repro.append(shell_line(self.command(bag), env) + "   # killed after the bag was moved into place, before it was recorded (gate)")
        self.check_after(t, data, env, bag)
        return [t]


class HoldPoint(Point):
    name = "hold"

    def command(self):
        return ["hold", "create", "--name", HOLD_NAME, "--matter", "litigation", "--requested-by", "Office of General Counsel",
                "--query", HOLD_QUERY, "--json"]

    def prepare(self):
        self.title = f"kill -9 `hold create --query {HOLD_QUERY}` on {fmt_n(CTX.sizes['main'])} messages"
        ref = copy_archive(CTX.data, CTX.root / "ref" / self.name)
        lo, hi, out, _ = measured(self.command(), archive_env(ref, "admin1"), CTX.root / "ref", self.name)
        self.window = (0.0, hi)
        self.ref = reference(ref)
        self.ref_records = json.loads(out)["records"]

    def holds(self, data):
        con = ro(data)
        try:
            return [r[0] for r in con.execute("SELECT id FROM legal_hold WHERE name = ? AND released_at IS NULL", (HOLD_NAME,))]
        finally:
            con.close()

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        data = copy_archive(CTX.data, CTX.root / self.name / f"t{k}" / "data")
        env = archive_env(data, "admin1")
        lo, hi = window or self.window
        offset = lo + frac * (hi - lo)
        t.offset = f"{offset:.3f}s"
        t0 = time.monotonic()
        p = start(self.command(), env, data.parent, "child")
        alive = kill_at(p, t0, offset, t, lo, hi)
        t.counted = alive
        ids = self.holds(data)
        t.landed = ("y (alive; hold " + ("committed)" if ids else "not committed yet)")) if alive else "n (finished first)"
        t.state = f"{len(ids)} hold(s) named so"
        if len(ids) > 1:
            t.fail(f"{len(ids)} holds after one kill")
        t.repro.append(shell_line(self.command(), env) + f"   # kill -9 after {offset:.3f} s")
        ok, text = verify(data)
        t.verify_kill = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the kill: {text}")
        if not ids:
            r = rk(self.command(), env)
            t.rerun = "ok" if r.returncode == 0 else f"exit {r.returncode}"
            if r.returncode != 0:
                t.fail(f"rerun exited {r.returncode}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
            t.repro.append(shell_line(self.command(), env) + "   # rerun (the hold was not placed)")
        else:
            t.rerun = "ok (was placed)"
        ok, text = verify(data)
        t.verify_end = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the rerun: {text}")
        diffs = count_check(data, self.ref)
        ids = self.holds(data)
        if len(ids) != 1:
            diffs.append(f"{len(ids)} holds named '{HOLD_NAME}' (want 1)")
        else:
            r, j = jrun(["hold", "show", str(ids[0]), "--json"], env)
            got = (j or {}).get("records")
            if got != self.ref_records:
                diffs.append(f"hold covers {got} records vs clean {self.ref_records}")
        incident_check(t, data)
        t.counts = "equal" if not diffs else "DIFFER"
        for d in diffs:
            t.fail(d)
        return t


class MigratePoint(Point):
    name = "migrate"

    def prepare(self):
        self.title = (f"kill -9 `migrate` of a {fmt_n(CTX.sizes['small'])}-message archive (attachments, a hold) "
                      f"into PostgreSQL, --page-size {CTX.page_size}")
        if CTX.pg_url is None:
            raise SkipPoint(CTX.pg_error)
        self.n = 0
        lo, hi, out, _ = self.run_clean()
        self.window = (lo, hi)

    def target(self, name):
        self.n += 1
        db = f"crash_{name}_{self.n}".replace("-", "_")
        r = subprocess.run(["psql", CTX.pg_url, "-qAtc", f"CREATE DATABASE {db}"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"CREATE DATABASE failed: {r.stderr}")
        return CTX.pg_url.replace("/postgres?", f"/{db}?"), db

    def command(self, src, url, blobs):
        return ["migrate", "--from", str(src), "--to", url, "--blob-store", str(blobs), "--page-size", str(CTX.page_size), "--json"]

    def env(self):
        return base_env({"RECORDKEEPER_KEK_FILE": str(CTX.kek)})

    def run_clean(self):
        src = copy_archive(CTX.small, CTX.root / "ref" / self.name / "data")
        url, _ = self.target("ref")
        blobs = src.parent / "target-blobs"
        err = CTX.root / "ref" / self.name / "ref.err"
        lo, hi, out, _ = measured(self.command(src, url, blobs), self.env(), src.parent, "ref",
                                  probe=lambda: err.exists() and err.stat().st_size > 0)
        return lo, hi, out, _

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        src = copy_archive(CTX.small, CTX.root / self.name / f"t{k}" / "data")
        url, db = self.target("t")
        blobs = src.parent / "target-blobs"
        cmd = self.command(src, url, blobs)
        env = self.env()
        lo, hi = window or self.window
        offset = lo + frac * (hi - lo)
        t.offset = f"{offset:.2f}s"
        t0 = time.monotonic()
        p = start(cmd, env, src.parent, "child")
        alive = kill_at(p, t0, offset, t, lo, hi)
        r = subprocess.run(["psql", url, "-qAtc", "SELECT count(*) FROM message"], capture_output=True, text=True)
        copied = r.stdout.strip() if r.returncode == 0 else "no table"
        t.counted = alive
        t.landed = f"y ({copied} msgs in target)" if alive else "n (finished first)"
        t.state = f"target: {copied} msgs"
        t.repro.append(f"psql '{CTX.pg_url}' -c 'CREATE DATABASE {db}'; " + shell_line(cmd, env) + f"   # kill -9 after {offset:.2f} s")
        ok, text = verify(src)
        t.verify_kill = "ok" if ok else text
        if not ok:
            t.fail(f"verify of the source after the kill: {text}")
        r = rk(cmd, env)
        report = None
        try:
            report = json.loads(r.stdout)
        except json.JSONDecodeError:
            pass
        diffs = []
        if r.returncode == 0 and report:
            resumed = next((x for x in report.get("tables", []) if x.get("table") == "message"), {})
            t.rerun = "ok" + (" (resumed)" if resumed.get("copied_now", 0) < resumed.get("source_rows", 0) else "")
            if not (report.get("source_verified") and report.get("target_verified")):
                t.fail(f"migrate's own verify: source {report.get('source_verified')}, target {report.get('target_verified')}")
            for x in report.get("tables", []):
                if x.get("source_rows") != x.get("target_rows"):
                    diffs.append(f"table {x.get('table')}: {x.get('target_rows')} rows in target vs {x.get('source_rows')} in source")
            if report.get("target_audit_head_at_that_entry") != report.get("source_audit_head"):
                diffs.append("audit chain heads differ")
        elif r.returncode == 0 and "already holds a completed copy" in r.stdout + r.stderr:
            t.rerun = "ok (copy was complete)"
        else:
            t.rerun = f"exit {r.returncode}"
            t.fail(f"rerun exited {r.returncode}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
        t.repro.append(shell_line(cmd, env) + "   # rerun")
        # The copy on its own: verify, and the same counts as the source.
        tenv = base_env({"RECORDKEEPER_DATABASE_URL": url, "RECORDKEEPER_BLOB_STORE": str(blobs), "RECORDKEEPER_KEK_FILE": str(CTX.kek),
                         "RECORDKEEPER_SIGNING_KEY_FILE": str(src / "keys" / "signing.key"),
                         "RECORDKEEPER_DATA_DIR": str(src.parent / "instance"), "RECORDKEEPER_TOKEN": CTX.tokens["admin1"]})
        v = rk(["verify", "--json"], tenv)
        t.verify_end = "ok (copy)" if v.returncode == 0 else f"exit {v.returncode} (copy)"
        if v.returncode != 0:
            t.fail(f"verify of the copy: exit {v.returncode}: {v.stdout.strip()[-300:]} {v.stderr.strip()[-300:]}")
        ts, _ = jrun(["stats", "--json"], tenv)
        try:
            got = json.loads(ts.stdout)
            want = stats(src)
            diffs += compare({k: got.get(k) for k in STAT_KEYS}, {k: want.get(k) for k in STAT_KEYS}, "copy stats")
        except json.JSONDecodeError:
            diffs.append(f"stats of the copy failed: {ts.stderr.strip()[-200:]}")
        ok, text = verify(src)
        if not ok:
            t.fail(f"verify of the source after the rerun: {text}")
        incident_check(t, src)
        t.counts = "equal" if not diffs else "DIFFER"
        for d in diffs:
            t.fail(d)
        subprocess.run(["psql", CTX.pg_url, "-qAtc", f"DROP DATABASE IF EXISTS {db}"], capture_output=True)
        return t


class DiskFullPoint(Point):
    name = "disk-full"

    def prepare(self):
        self.exports = CTX.fill_exports
        ref = copy_archive(CTX.base, CTX.root / "ref" / self.name)
        for x in self.exports:
            rk(ingest_cmd(x), archive_env(ref, "admin1"), check=True)
        self.ref = reference(ref)
        self.base_kb = du_kb(CTX.base)
        self.base_db = (CTX.base / "archive.sqlite").stat().st_size
        self.ref_db = (ref / "archive.sqlite").stat().st_size
        self.need_kb = du_kb(ref) - self.base_kb
        self.mode = "tmpfs" if CTX.tmpfs_ok else "RLIMIT_FSIZE (substitute: EFBIG per file, not a full file system)"
        self.title = (f"ingest {len(self.exports)} exports into a data directory on a small {'tmpfs' if CTX.tmpfs_ok else 'RLIMIT_FSIZE limit'} "
                      f"(the whole set needs {self.need_kb // 1024} MB beyond the empty archive), then more room and the same ingest")
        self.window = (0.0, 1.0)

    def trial(self, k, frac, window=None):
        t = Trial(self.name, str(k))
        work = CTX.root / self.name / f"t{k}"
        work.mkdir(parents=True, exist_ok=True)
        # The log grows beyond the final size while a batch is written: sizes up to 1.5 times what
        # the set finally needs put the failure in the first, second or third export.
        size_kb = int(self.base_kb + 256 + frac * self.need_kb * 1.5)
        mnt = work / "mnt"
        mnt.mkdir(exist_ok=True)
        preexec = None
        if CTX.tmpfs_ok:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)], check=True)
            CTX.mounts.append(mnt)
            t.offset = f"{size_kb // 1024} MB fs"
        else:
            # Per file: the record store is the file that grows most.
            limit = int(self.base_db + frac * (self.ref_db - self.base_db))

            def preexec():
                import resource
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            t.offset = f"{limit // 1024} KB/file"
        data = copy_archive(CTX.base, mnt / "data")
        env = archive_env(data, "admin1")
        failed_at = None
        err_text = ""
        for i, x in enumerate(self.exports):
            r = subprocess.run([str(CTX.bin)] + ingest_cmd(x), env=env, capture_output=True, text=True, timeout=600, preexec_fn=preexec)
            t.repro.append(shell_line(ingest_cmd(x), env))
            if r.returncode != 0:
                failed_at = i
                said = []
                for line in r.stdout.splitlines():
                    try:
                        if json.loads(line).get("error"):
                            said.append(json.loads(line)["error"])
                    except (json.JSONDecodeError, AttributeError):
                        pass
                said += [l for l in r.stderr.splitlines() if l.startswith("error:")]
                err_text = " | ".join(said)[-400:] or r.stderr.strip()[-400:]
                break
        if failed_at is None:
            t.counted = False
            t.landed = "n (never filled)"
        else:
            t.counted = True
            clear = re.search(r"no space|disk is full|disk full|SQLITE_FULL|data directory is full|space left|file too large|too large|ENOSPC|EFBIG|errno 2[78]", err_text, re.I)
            t.landed = f"y (export {failed_at + 1}: exit {r.returncode})"
            t.notes.append(f"error: {err_text[:300]}")
            if not clear:
                t.fail(f"the failure does not say the disk is full: {err_text[:300]}")
        ok, text = verify(data)  # still full: verify writes an audit entry, so it may not run at all
        if not ok:
            t.notes.append(f"verify on the full disk (before more room): {text}")
        # More room: the same mount made larger (or no limit).
        if CTX.tmpfs_ok:
            subprocess.run(["mount", "-o", "remount,size=4g", str(mnt)], check=True)
            t.repro.append(f"mount -o remount,size=4g {mnt}")
        msgs, running = state_counts(data)
        t.state = f"{fmt_n(msgs)} msgs, {running} unfinished batch"
        ok, text = verify(data)  # what the failure left, before any rerun
        t.verify_kill = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the failure (with room again, before the rerun): {text}")
        start_at = failed_at if failed_at is not None else len(self.exports)
        rerun_ok = True
        for x in self.exports[start_at:]:
            r = rk(ingest_cmd(x), env)
            t.repro.append(shell_line(ingest_cmd(x), env) + "   # rerun with room")
            if r.returncode != 0:
                rerun_ok = False
                t.fail(f"rerun with room exited {r.returncode}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
                break
        t.rerun = "ok" if rerun_ok else "FAILED"
        ok, text = verify(data)
        t.verify_end = "ok" if ok else text
        if not ok:
            t.fail(f"verify after the rerun: {text}")
        diffs = count_check(data, self.ref)
        orphans, missing, _ = blob_report(data)
        if orphans:
            t.notes.append(f"{orphans} orphan blob file(s) on disk")
        incident_check(t, data)
        t.counts = "equal" if not diffs else "DIFFER"
        for d in diffs:
            t.fail(d)
        if CTX.tmpfs_ok and not CTX.args.keep:
            shutil.rmtree(data, ignore_errors=True)
            umount(mnt)
        return t


class SkipPoint(Exception):
    pass


def du_kb(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total // 1024


def umount(mnt):
    subprocess.run(["umount", str(mnt)], capture_output=True)
    if mnt in CTX.mounts:
        CTX.mounts.remove(mnt)


# ---------------------------------------------------------------------------------------------
# Templates shared by the points


def build_templates(points):
    names = {p.name for p in points}
    sizes = CTX.sizes
    say(f"generating exports (recordkeeper sample-export) and template archives in {CTX.root}")
    CTX.base = setup_base()
    CTX.export_main = sample_export("main", sizes["main"], 11, "Harbor Ops", 40)
    if names & {"index", "hold", "dispose-execute"}:
        CTX.data = copy_archive(CTX.base, CTX.root / "templates" / "data")
        rk(ingest_cmd(CTX.export_main), archive_env(CTX.data, "admin1"), check=True)
    if "dispose-execute" in names:
        d = CTX.dispose_template = copy_archive(CTX.data, CTX.root / "templates" / "dispose")
        plan = CTX.root / "templates" / "temporary-plan.json"
        plan.write_text(json.dumps(TEMPORARY_PLAN))
        rk(["fileplan", "import", plan, "--apply", "--note", "crash matrix"], archive_env(d, "admin1"), check=True)
        r, j = jrun(["dispose", "propose", "--json"], archive_env(d, "admin1"))
        if r.returncode != 0:
            raise RuntimeError(f"dispose propose: {r.stderr}")
        CTX.dispose_id = j["id"]
        CTX.dispose_records = sum(i["records"] for i in j["items"])
        rk(["dispose", "approve", CTX.dispose_id], archive_env(d, "bob"), check=True)
    if names & {"transfer-package", "transfer-confirm"}:
        d = CTX.transfer_template = copy_archive(CTX.base, CTX.root / "templates" / "transfer")
        rk(ingest_cmd(sample_export("transfer", sizes["transfer"], 13, "Customs Liaison", 40)), archive_env(d, "admin1"), check=True)
        plan = CTX.root / "templates" / "permanent-plan.json"
        plan.write_text(json.dumps(PERMANENT_PLAN))
        rk(["fileplan", "import", plan, "--apply", "--note", "crash matrix"], archive_env(d, "admin1"), check=True)
        r, j = jrun(["transfer", "propose", "--json"], archive_env(d, "admin1"))
        if r.returncode != 0:
            raise RuntimeError(f"transfer propose: {r.stderr}")
        CTX.transfer_id = j["id"]
        CTX.transfer_records = sum(i["records"] for i in j["items"])
        rk(["dispose", "approve", CTX.transfer_id], archive_env(d, "bob"), check=True)
        if "transfer-confirm" in names:
            c = CTX.confirm_template = copy_archive(d, CTX.root / "templates" / "confirm")
            rk(["transfer", "package", CTX.transfer_id, "--output", CTX.root / "templates" / "confirm-bag"],
               archive_env(c, "admin1"), check=True)
    if "migrate" in names:
        CTX.small = copy_archive(CTX.base, CTX.root / "templates" / "small")
        x = sample_export("small", sizes["small"], 12, "Port Watch", 30)
        rk(ingest_cmd(x), archive_env(CTX.small, "admin1"), check=True)
        rk(["hold", "create", "--name", "Small hold", "--matter", "foia-request", "--requested-by", "FOIA office",
            "--query", HOLD_QUERY], archive_env(CTX.small, "admin1"), check=True)
        CTX.kek = CTX.root / "target.kek"
        CTX.kek.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
        os.chmod(CTX.kek, 0o600)
        start_postgres()
    if "disk-full" in names:
        CTX.fill_exports = [sample_export(f"fill{i}", sizes["fill"], 20 + i, f"Fill Chat {i}", 25) for i in range(1, 4)]
        CTX.tmpfs_ok = False if CTX.args.rlimit_disk else tmpfs_works()
        if CTX.args.rlimit_disk:
            CTX.tmpfs_error = "not tried (--rlimit-disk)"


def start_postgres():
    CTX.pg_dir = CTX.root / "pg"
    r = subprocess.run([str(REPO / "scripts" / "postgres.sh"), "start", str(CTX.pg_dir)], capture_output=True, text=True, timeout=600)
    if r.returncode == 0 and r.stdout.strip().startswith("postgres://"):
        CTX.pg_url = r.stdout.strip().splitlines()[-1]
    else:
        CTX.pg_error = f"scripts/postgres.sh start failed: {r.stderr.strip()[-300:]}"
        CTX.pg_dir = None


def tmpfs_works():
    probe = CTX.root / "tmpfs-probe"
    probe.mkdir(exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True, text=True)
    if r.returncode != 0:
        CTX.tmpfs_error = r.stderr.strip()
        return False
    subprocess.run(["umount", str(probe)], capture_output=True)
    return True


def cleanup():
    for p in CTX.children:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for m in list(CTX.mounts):
        umount(m)
    if CTX.pg_dir:
        subprocess.run([str(REPO / "scripts" / "postgres.sh"), "stop", str(CTX.pg_dir)], capture_output=True)
        CTX.pg_dir = None
    if not CTX.args.keep and CTX.root.exists() and str(CTX.root).startswith("/tmp/crash-"):
        shutil.rmtree(CTX.root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Output


def say(text):
    print(text, flush=True)


COLUMNS = [("#", "label"), ("offset", "offset"), ("landed mid-work", "landed"), ("state after kill", "state"),
           ("verify", "verify_kill"), ("rerun", "rerun"), ("verify", "verify_end"), ("counts", "counts"), ("time", "secs"), ("", "result")]


def cell(t, key, width=44):
    if key == "secs":
        return f"{t.secs:.1f}s"
    if key == "result":
        return "FAIL" if t.failures else "pass"
    v = str(getattr(t, key))
    return v if len(v) <= width else v[:width - 1] + "…"


def table(trials):
    rows = [[h for h, _ in COLUMNS]] + [[cell(t, k) for _, k in COLUMNS] for t in trials]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    for n, r in enumerate(rows):
        say("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


ALL = [IngestPoint, IndexPoint, DestroyPoint, PackagePoint, ConfirmPoint, HoldPoint, MigratePoint, UploadPoint, DiskFullPoint]


def main():
    global CTX
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("RECORDKEEPER_BIN", str(REPO / ".build/debug/recordkeeper")),
                    help="the recordkeeper binary (default $RECORDKEEPER_BIN, else .build/debug/recordkeeper); copied before use")
    ap.add_argument("--offsets", type=int, default=None, help="random kill offsets per point (default 3; 8 with --thorough)")
    ap.add_argument("--thorough", action="store_true", help="8 offsets per point")
    ap.add_argument("--seed", type=int, default=None, help="seed for the offsets (default: random, printed)")
    ap.add_argument("--only", default="", help="comma-separated points: " + ",".join(p.name for p in ALL))
    ap.add_argument("--no-gates", action="store_true", help="skip the gated kills between two commits")
    ap.add_argument("--rlimit-disk", action="store_true", help="disk-full by RLIMIT_FSIZE even where a tmpfs can be mounted")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--work", default="", help="work directory (must start with /tmp/crash-)")
    args = ap.parse_args()
    if args.work and not args.work.startswith("/tmp/crash-"):
        ap.error("--work must be under /tmp/crash-*")
    offsets = args.offsets if args.offsets is not None else (8 if args.thorough else 3)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    CTX = Ctx(args)
    CTX.sizes = {"main": 8000, "transfer": 4000, "small": 2000, "fill": 5000}
    CTX.index_batch = 100
    CTX.page_size = 50
    CTX.tmpfs_ok = False
    CTX.pg_error = ""
    wanted = [p for p in ALL if not args.only or p.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {p.name for p in ALL}
    if unknown:
        ap.error(f"unknown point(s): {', '.join(sorted(unknown))}")
    src = Path(args.bin)
    if not src.exists():
        ap.error(f"no binary at {src} (build it, or give --bin / RECORDKEEPER_BIN)")
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    started = time.monotonic()
    CTX.root.mkdir(parents=True, exist_ok=True)
    CTX.bin.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, CTX.bin)
    say(f"crash matrix: {offsets} offset(s) per point, seed {seed} (repeat with --seed {seed}), binary {src} (copied)")
    rng = random.Random(seed)
    points = [cls() for cls in wanted]
    # Fractions drawn up front, in a fixed order: the same seed gives the same offsets in each window.
    fractions = {p.name: [rng.uniform(0.02, 0.98) for _ in range(offsets)] for p in points}
    build_templates(points)
    results = {}
    skipped = {}
    for p in points:
        t0 = time.monotonic()
        try:
            p.prepare()
        except SkipPoint as e:
            skipped[p.name] = str(e)
            say(f"\n== {p.name}: SKIPPED: {e}")
            continue
        lo, hi = p.window
        say(f"\n== {p.name}: {p.title}")
        if p.name != "disk-full":
            say(f"   clean run: work visible after {lo:.2f} s, done after {hi:.2f} s; kills at random offsets in that window")
        else:
            say(f"   disk: {p.mode}" + ("" if CTX.tmpfs_ok else f" (tmpfs mount refused: {getattr(CTX, 'tmpfs_error', '?')})"))
        trials = []
        for k, frac in enumerate(fractions[p.name], 1):
            s = time.monotonic()
            try:
                t = p.trial(k, frac)
            except Exception as e:  # a harness failure is a failure of the point, with its reason
                t = Trial(p.name, str(k), failures=[f"harness error: {e!r}"])
            t.secs = time.monotonic() - s
            trials.append(t)
            if not t.counted and t.retry_window:
                # The child finished before the kill (a loaded machine runs faster or slower than the
                # clean run did): once more, with the window rescaled to how long it really took.
                s = time.monotonic()
                try:
                    t = p.trial(f"{k}r", frac, window=t.retry_window)
                except Exception as e:
                    t = Trial(p.name, f"{k}r", failures=[f"harness error: {e!r}"])
                t.secs = time.monotonic() - s
                trials.append(t)
        if not args.no_gates:
            s = time.monotonic()
            try:
                gts = p.gated()
            except Exception as e:
                gts = [Trial(p.name, "gate", failures=[f"harness error: {e!r}"])]
            for t in gts:
                t.secs = time.monotonic() - s
            trials += gts
        table(trials)
        landed = sum(1 for t in trials if t.counted)
        if landed == 0:
            say(f"   no kill landed mid-work at {p.name}: the point is not tested"
                + (" (the disk never filled)" if p.name == "disk-full" else " (make the work longer)"))
        say(f"   {landed} of {len(trials)} kills landed mid-work; {sum(1 for t in trials if t.failures)} failed  ({time.monotonic() - t0:.0f} s)")
        results[p.name] = trials
    failures = [(t) for ts in results.values() for t in ts if t.failures]
    not_landed = [n for n, ts in results.items() if not any(t.counted for t in ts)]
    say("")
    if failures:
        say("FAILURES")
        for t in failures:
            say(f"- {t.point} #{t.label} (offset {t.offset}, landed {t.landed}):")
            for f in t.failures:
                say(f"    {f}")
            for n in t.notes:
                say(f"    note: {n}")
            say("    reproduce:")
            for line in t.repro:
                say(f"      {line}")
    notes = [(t) for ts in results.values() for t in ts if t.notes and not t.failures]
    if notes:
        say("NOTES")
        for t in notes:
            for n in t.notes:
                say(f"- {t.point} #{t.label}: {n}")
    for name, why in skipped.items():
        say(f"SKIPPED {name}: {why}")
    total = sum(len(ts) for ts in results.values())
    say(f"\n{total - len(failures)} of {total} trials passed; {len(failures)} failed; "
        f"{len(skipped)} point(s) skipped; seed {seed}; total {time.monotonic() - started:.0f} s"
        + (f"; work kept in {CTX.root}" if args.keep else ""))
    bad = bool(failures) or bool(not_landed)
    if not_landed:
        say(f"no kill landed mid-work at: {', '.join(not_landed)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
