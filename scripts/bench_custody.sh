#!/usr/bin/env bash
# Custody benchmark (issue 15, CUSTODY.md §7) on the release build:
#   P1  import of a 1,000,000-row target list (`custody import --commit`): ≥ 17k rows/s (rows ÷
#       wall seconds of the committing process), peak RSS ≤ 512 MB (/usr/bin/time -v); in the
#       same run the SQLite engine floor for the same rows (scripts/bench_custody_floor.py: one
#       transaction, UNIQUE(s10, rule_code, rule_version), WAL, synchronous=FULL) and ours ÷ floor.
#   P2  scans through POST /api/v1/custody/scans of a running `serve` (on the P1 archive, so the
#       day's 1M targets are there; every 10th scan is a targeted item): a sustained phase
#       (200 scans/s), a burst (500 scans/s for 60 s), each request one station's single scan, and
#       a batched phase (small batches, at the burst rate); 50 stations = 50 keep-alive
#       connections (scripts/bench_custody_load.py, open loop). Per phase: achieved rate, client
#       latency per request on loopback (an upper bound of the server's time), the server's own
#       time per request from its request log (ms=…), answers by status. Then: lost or doubled
#       events — R-BAL's `received` for the day(s) equals the scans recorded, a sample of items
#       has exactly one event each (GET /items/{s10}), and a sample of scans sent again is
#       answered `repeated` without adding to R-BAL.
#   P3  (BENCH_CUSTODY_P3=1) a history of BENCH_CUSTODY_P3_DAYS days from 2018-10-01 (each day: a
#       target list, ITEMS receipts through the batch API in batches of 1,000, a few of the day's
#       targets inspected (CLI), and the next day the return of the untargeted items (released
#       uninspected by a supervisor) and of the first inspected target; the server and the CLI run
#       under libfaketime at that day's date, since events carry the server's clock), then every
#       daily report for the last day and R-EFF over the whole window, each timed through the API
#       (run 0 cold, the best of runs 1-2 reported).
# A measurement, not a test: a missed target is reported as MISS and the script exits 0; it exits
# non-zero only when a command fails or events are lost or doubled.
#
# Usage: scripts/bench_custody.sh                      (alone), or BENCH_CUSTODY=1 scripts/bench.sh
#        BENCH_CUSTODY_ONLY=1 scripts/bench.sh         (the same as running this script alone)
# Environment: BENCH_DIR (default /tmp/recordkeeper-bench; results in $BENCH_DIR/results-custody),
#   BENCH_BIN (a built binary: skips the build), BENCH_SCRATCH (build folder, default .build),
#   BENCH_CUSTODY_ROWS (1000000), BENCH_CUSTODY_SUSTAIN_RATE (200), BENCH_CUSTODY_SUSTAIN_S (120;
#   the spec's shift is 8 h = 28800), BENCH_CUSTODY_BURST_RATE (500), BENCH_CUSTODY_BURST_S (60),
#   BENCH_CUSTODY_STATIONS (50), BENCH_CUSTODY_BATCH (10; 0 skips the batched phase),
#   BENCH_CUSTODY_P3 (0), BENCH_CUSTODY_P3_DAYS (30; the OIG's window is 273),
#   BENCH_CUSTODY_P3_ITEMS (3000 receipts a day), BENCH_CUSTODY_P3_TARGETS (300 targets a day),
#   BENCH_CUSTODY_P3_INSPECT (2 inspections a day, through the CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BENCH_DIR=${BENCH_DIR:-/tmp/recordkeeper-bench}
ROWS=${BENCH_CUSTODY_ROWS:-1000000}
SUSTAIN_RATE=${BENCH_CUSTODY_SUSTAIN_RATE:-200}
SUSTAIN_S=${BENCH_CUSTODY_SUSTAIN_S:-120}
BURST_RATE=${BENCH_CUSTODY_BURST_RATE:-500}
BURST_S=${BENCH_CUSTODY_BURST_S:-60}
STATIONS=${BENCH_CUSTODY_STATIONS:-50}
BATCH=${BENCH_CUSTODY_BATCH:-10}
P3=${BENCH_CUSTODY_P3:-0}
P3_DAYS=${BENCH_CUSTODY_P3_DAYS:-30}
P3_ITEMS=${BENCH_CUSTODY_P3_ITEMS:-3000}
P3_TARGETS=${BENCH_CUSTODY_P3_TARGETS:-300}
P3_INSPECT=${BENCH_CUSTODY_P3_INSPECT:-2}
SEED=1
TARGET_DAY=2019-06-17
PASSWORD=bench-custody-password-1

log() { printf '[bench-custody %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
trap 'rc=$?; log "FAILED (exit $rc) at line $LINENO: $BASH_COMMAND"; exit $rc' ERR
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
jget() { python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1" "$2"; }

for tool in python3 /usr/bin/time curl; do
  command -v "$tool" >/dev/null || { log "missing required tool: $tool"; exit 1; }
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
TMP=$(mktemp -d "$BENCH_DIR/custody-tmp.XXXXXX")
RES="$BENCH_DIR/results-custody"
rm -rf "$RES" && mkdir -p "$RES"
# shellcheck source=scripts/bench_custody_lib.sh
. scripts/bench_custody_lib.sh
trap 'stop_server; rm -rf "$TMP"' EXIT

# ── 0. the binary ────────────────────────────────────────────────────────────────────────────
bench_binary

# ── 1. the target list (reused when its spec matches) ───────────────────────────────────────
TARGETS="$BENCH_DIR/custody-targets-$ROWS.csv"
spec="rows=$ROWS seed=$SEED day=$TARGET_DAY generator=$(sha256sum scripts/bench_custody_gen.py | cut -c1-16)"
if [ -f "$TARGETS.spec" ] && [ -f "$TARGETS" ] && [ "$(cat "$TARGETS.spec")" = "$spec $(stat -c %s "$TARGETS")" ]; then
  log "reusing target list $TARGETS"
else
  log "generating target list: $ROWS rows ($TARGETS)"
  python3 scripts/bench_custody_gen.py targets "$TARGETS" "$ROWS" --seed "$SEED" --day "$TARGET_DAY"
  echo "$spec $(stat -c %s "$TARGETS")" >"$TARGETS.spec"
fi
TARGET_BYTES=$(stat -c %s "$TARGETS")

# ── 2. P1 floor: SQLite alone, the same rows, one transaction ──────────────────────────────
l0=$(loadavg)
log "P1 floor: python sqlite3, $ROWS rows, one transaction, UNIQUE(s10, rule_code, rule_version), WAL, synchronous=FULL   load $l0"
python3 scripts/bench_custody_floor.py "$TARGETS" "$TMP/floor" >"$RES/p1.floor.json"
log "  floor: $(python3 -c "import json; d=json.load(open('$RES/p1.floor.json')); print(f\"{d['rows_per_s']:,.0f} rows/s ({d['seconds']:.2f} s)\")")"

# ── 3. P1: init, rules, import --commit under /usr/bin/time -v ──────────────────────────────
DATA="$BENCH_DIR/custody-data"
rm -rf "$DATA"
rk init --data-dir "$DATA" >/dev/null
for r in "BENCH-1 narcotics" "BENCH-2 agriculture" "BENCH-3 ipr" "BENCH-4 random"; do
  set -- $r
  rk custody rule add "$1" --version 1 --category "$2" --source ATS --description "benchmark rule $1" --data-dir "$DATA" >/dev/null
done
l0=$(loadavg)
log "P1 import --commit of $ROWS rows ($((TARGET_BYTES / 1000000)) MB) into a fresh archive   load $l0"
/usr/bin/time -v -o "$TMP/p1.time" "$BIN" custody import "$TARGETS" --commit --json --show 0 --data-dir "$DATA" >"$TMP/p1.out"
l1=$(loadavg)
python3 - "$TMP/p1.time" "$TMP/p1.out" "$RES/p1.floor.json" "$ROWS" "$l0" "$l1" "$DATA" >"$RES/p1.json" <<'EOF'
import json, os, sys
tf, of, ff, rows, l0, l1, data = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
t = {}
for line in open(tf):
    if "Elapsed (wall clock)" in line:
        secs = 0.0
        for part in line.rsplit(": ", 1)[1].strip().split(":"):
            secs = secs * 60 + float(part)
        t["wall"] = secs
    elif "Maximum resident set size" in line:
        t["rss_mb"] = int(line.rsplit(":", 1)[1]) * 1024 / 1e6
    elif "User time (seconds)" in line:
        t["user"] = float(line.rsplit(":", 1)[1])
    elif "System time (seconds)" in line:
        t["sys"] = float(line.rsplit(":", 1)[1])
r = json.load(open(of))
floor = json.load(open(ff))
if r["accepted"] != rows or r.get("added") != rows:
    sys.exit(f"import accepted {r['accepted']}, added {r.get('added')} of {rows} rows: {r['rejectedByCode'] if 'rejectedByCode' in r else r}")
db = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("archive.sqlite"))
rate = rows / t["wall"]
print(json.dumps(t | {"rows": rows, "added": r["added"], "rejected": r["rejected"], "rows_per_s": rate,
                      "floor_rows_per_s": floor["rows_per_s"], "ratio_to_floor": rate / floor["rows_per_s"],
                      "archive_bytes_after": db, "load_start": l0, "load_end": l1}))
EOF
log "  P1: $(python3 -c "import json; d=json.load(open('$RES/p1.json')); print(f\"{d['rows_per_s']:,.0f} rows/s ({d['wall']:.1f} s), peak RSS {d['rss_mb']:.0f} MB, {d['ratio_to_floor']:.2f}× floor\")")"

# ── 4. P2: scans through the API ─────────────────────────────────────────────────────────────
rk custody location add RCV-1 --name "Receiving dock 1" --kind receiving --secured --alarmed --cctv --data-dir "$DATA" >/dev/null
rk user add bench.receiver --role receiver --data-dir "$DATA" --password-stdin <<<"$PASSWORD" >/dev/null
rk user add bench.auditor --role auditor --data-dir "$DATA" --password-stdin <<<"$PASSWORD" >/dev/null
token_of() { rk user token create "$1" --label "custody benchmark" --data-dir "$DATA" 2>/dev/null | grep -o 'rk_[A-Za-z0-9_-]*' | head -n1; }
RTOKEN=$(token_of bench.receiver)
ATOKEN=$(token_of bench.auditor)
[ -n "$RTOKEN" ] && [ -n "$ATOKEN" ] || { log "could not create API tokens"; exit 1; }
SLOG="$RES/p2.server.log"
: >"$SLOG"
start_server "$DATA" "$SLOG"
log "P2 server $URL (pid $SERVER_PID); load generator: python $(python3 -c 'import sys; print(sys.version.split()[0])') asyncio, raw HTTP/1.1 keep-alive, $STATIONS stations"
DAY0=$(date -u +%Y-%m-%d)
# Item numbers: targets are 0 … ROWS-1; fresh (untargeted) items from 500,000,000 on; every 10th
# scan is a target, in order from target 0.
NEXT_FRESH=500000000
NEXT_TARGET=0
phase() {   # phase NAME RATE SECONDS BATCH ID_SEED
  local name=$1 rate=$2 secs=$3 batch=$4 seed=$5
  log "P2 $name: $rate scans/s for $secs s, $batch scan(s) a request   load $(loadavg)"
  local l0; l0=$(loadavg)
  python3 scripts/bench_custody_load.py --url "$URL" --token "$RTOKEN" --rate "$rate" --duration "$secs" --batch "$batch" \
    --stations "$STATIONS" --first "$NEXT_FRESH" --targeted-every 10 --targeted-first "$NEXT_TARGET" --id-seed "$seed" \
    --server-log "$SLOG" --ids-out "$TMP/ids-$name.tsv" --name "$name" >"$TMP/p2.$name.json"
  python3 - "$TMP/p2.$name.json" "$l0" "$(loadavg)" "$SERVER_PID" >"$RES/p2.$name.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["load_start"], d["load_end"] = sys.argv[2], sys.argv[3]
print(json.dumps(d))
EOF
  local n; n=$(jget "$RES/p2.$name.json" scans_sent)
  NEXT_FRESH=$((NEXT_FRESH + n)); NEXT_TARGET=$((NEXT_TARGET + n / 10 + 1))
  log "  $(python3 -c "
import json; d=json.load(open('$RES/p2.$name.json')); l=d['latency_ms']; s=d.get('server_ms') or {}
print(f\"{d['achieved_scans_per_s']:.1f} scans/s recorded; statuses {d['statuses']}; client p50/p95/p99 {l['p50']:.1f}/{l['p95']:.1f}/{l['p99']:.1f} ms; server p50/p95/p99 {s.get('p50')}/{s.get('p95')}/{s.get('p99')} ms\")")"
}
server_cpu() { awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' /proc/"$SERVER_PID"/stat; }
c0=$(server_cpu); phase sustained "$SUSTAIN_RATE" "$SUSTAIN_S" 1 1; c1=$(server_cpu)
phase burst "$BURST_RATE" "$BURST_S" 1 2; c2=$(server_cpu)
PHASES="sustained burst"
if [ "$BATCH" -gt 0 ]; then phase batched "$BURST_RATE" "$BURST_S" "$BATCH" 3; PHASES="$PHASES batched"; fi
c3=$(server_cpu)
DAY1=$(date -u +%Y-%m-%d)

# Lost or doubled: R-BAL's received over the day(s) the phases ran = scans recorded; a sample of
# items has exactly one event; a sample sent again is answered "repeated" and adds nothing.
api() { curl -sf -H "Authorization: Bearer $ATOKEN" -H 'Accept: application/json' "$URL$1"; }
balance_received() {
  local total=0 d
  for d in $(python3 -c "import datetime as dt,sys; a,b=(dt.date.fromisoformat(x) for x in sys.argv[1:]); print(*[(a+dt.timedelta(i)).isoformat() for i in range((b-a).days+1)])" "$DAY0" "$DAY1"); do
    api "/api/v1/custody/reports/balance?day=$d" >"$TMP/balance-$d.json"
    total=$((total + $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=d.get('result', d); print(r['received'])" "$TMP/balance-$d.json")))
  done
  echo "$total"
}
t0=$(date +%s.%N); RECEIVED=$(balance_received); t1=$(date +%s.%N)
BAL_S=$(python3 -c "print($t1 - $t0)")
cat "$TMP"/ids-*.tsv >"$TMP/ids-all.tsv"
python3 - "$TMP/ids-all.tsv" "$URL" "$ATOKEN" "$RTOKEN" >"$TMP/p2.check.json" <<'EOF'
import json, random, sys, urllib.request
ids, url, atoken, rtoken = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])], sys.argv[2], sys.argv[3], sys.argv[4]
rng = random.Random(7)
sample = rng.sample(ids, min(200, len(ids)))
def call(path, token, body=None):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + token, "Accept": "application/json",
                                          "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=60))
counts = {}
for s10, _ in sample:
    chain = call("/api/v1/custody/items/" + s10, atoken)
    n = len(chain.get("events", []))
    counts[n] = counts.get(n, 0) + 1
again = call("/api/v1/custody/scans", rtoken, {"station": "BENCH-RETRY", "scans": [
    {"s10": s, "action": "receive", "location": "RCV-1", "client_scan_id": sid} for s, sid in sample[:100]]})
statuses = {}
for r in again["results"]:
    statuses[r["status"]] = statuses.get(r["status"], 0) + 1
print(json.dumps({"sample": len(sample), "events_per_item": {str(k): v for k, v in counts.items()},
                  "resent": min(100, len(sample)), "resent_statuses": statuses}))
EOF
RECEIVED_AFTER=$(balance_received)
stop_server
python3 - "$RES" "$RECEIVED" "$RECEIVED_AFTER" "$TMP/p2.check.json" "$BAL_S" "$c0" "$c1" "$c2" "$c3" $PHASES >"$RES/p2.json" <<'EOF'
import json, sys
res, received, received_after, check, bal_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.load(open(sys.argv[4])), float(sys.argv[5])
cpu = [float(x) for x in sys.argv[6:10]]
phases = sys.argv[10:]
d = {p: json.load(open(f"{res}/p2.{p}.json")) for p in phases}
recorded = sum(x["statuses"].get("recorded", 0) for x in d.values())
sent = sum(x["scans_sent"] for x in d.values())
d["sustained"]["server_cpu_s"] = cpu[1] - cpu[0]
d["burst"]["server_cpu_s"] = cpu[2] - cpu[1]
if "batched" in d:
    d["batched"]["server_cpu_s"] = cpu[3] - cpu[2]
out = {"phases": d, "scans_sent": sent, "recorded": recorded, "balance_received": received,
       "balance_received_after_resend": received_after, "balance_seconds": bal_s,
       "lost": sent - received, "doubled": max(0, received - sent) + max(0, received_after - received), "check": check}
print(json.dumps(out))
EOF
LOST=$(jget "$RES/p2.json" lost); DOUBLED=$(jget "$RES/p2.json" doubled)
log "  P2 check: sent $(jget "$RES/p2.json" scans_sent), recorded $(jget "$RES/p2.json" recorded), R-BAL received $RECEIVED (after resending 100: $RECEIVED_AFTER); sample events per item $(jget "$RES/p2.json" check.events_per_item), resent answered $(jget "$RES/p2.json" check.resent_statuses)"

# ── 5. P3 (optional): a history, then the reports ───────────────────────────────────────────
if [ "$P3" = 1 ]; then
  command -v faketime >/dev/null || { log "P3 needs libfaketime (apt-get install faketime)"; exit 1; }
  # The faketime program forks the program it runs: servers are started in a session of their
  # own and stopped by signalling the whole group.
  H="$BENCH_DIR/custody-history"
  rm -rf "$H"
  # On PostgreSQL the history is built in an embedded archive (the server and the CLI run under
  # libfaketime, which stalls PostgresNIO's connections after the handshake), then copied by
  # `migrate` into a database of its own on the same server (NAME_p3; the P1/P2 archive is still
  # in the first), and the reports are timed there.
  P3_DB_URL=
  if [ -n "${RECORDKEEPER_DATABASE_URL:-}" ]; then
    P3_DB_URL=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); db = p.path.lstrip("/") or "postgres"
print(u.urlunsplit(p._replace(path="/" + db + "_p3")))' "$RECORDKEEPER_DATABASE_URL")
    ADMIN_URL=$RECORDKEEPER_DATABASE_URL
    P3_DB=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).path.lstrip("/"))' "$P3_DB_URL")
    /usr/lib/postgresql/15/bin/psql -q -X -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$P3_DB\" WITH (FORCE)" -c "CREATE DATABASE \"$P3_DB\"" >&2
    P3_BLOBS=${RECORDKEEPER_BLOB_STORE:-}
    if [ "${P3_BLOBS#/}" != "$P3_BLOBS" ]; then P3_BLOBS="${P3_BLOBS%/}-p3"; rm -rf "$P3_BLOBS" && mkdir -p "$P3_BLOBS"; fi
    unset RECORDKEEPER_DATABASE_URL RECORDKEEPER_BLOB_STORE
    log "P3: the history in an embedded archive, then copied into PostgreSQL database $P3_DB"
  fi
  rk init --data-dir "$H" >/dev/null
  for r in "BENCH-1 narcotics" "BENCH-2 agriculture" "BENCH-3 ipr" "BENCH-4 random"; do
    set -- $r
    rk custody rule add "$1" --version 1 --category "$2" --source ATS --description "benchmark rule $1" --data-dir "$H" >/dev/null
  done
  rk custody location add RCV-1 --name "Receiving dock 1" --kind receiving --secured --alarmed --cctv --data-dir "$H" >/dev/null
  rk user add bench.receiver --role receiver --data-dir "$H" --password-stdin <<<"$PASSWORD" >/dev/null
  rk user add bench.auditor --role auditor --data-dir "$H" --password-stdin <<<"$PASSWORD" >/dev/null
  rk user add bench.supervisor --role custody-supervisor --data-dir "$H" --password-stdin <<<"$PASSWORD" >/dev/null
  rk user add bench.officer --role custody-officer --data-dir "$H" --password-stdin <<<"$PASSWORD" >/dev/null
  DATA=$H
  RTOKEN=$(token_of bench.receiver); ATOKEN=$(token_of bench.auditor); OTOKEN=$(token_of bench.officer)
  HLOG="$RES/p3.server.log"; : >"$HLOG"
  log "P3 history: $P3_DAYS days from 2018-10-01, $P3_ITEMS receipts, $P3_TARGETS targets and $P3_INSPECT inspections a day   load $(loadavg)"
  t0=$(date +%s)
  python3 - "$BIN" "$H" "$P3_DAYS" "$P3_ITEMS" "$P3_TARGETS" "$RTOKEN" "$HLOG" "$ROOT/scripts" "$P3_INSPECT" "$OTOKEN" >"$RES/p3.history.json" <<'EOF'
import datetime as dt, json, os, re, signal, subprocess, sys, time, urllib.request
binary, data, days, items, ntargets, token, logf, scripts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8]
ninspect = int(sys.argv[9])
officer = dict(os.environ, RECORDKEEPER_TOKEN=sys.argv[10])   # inspections act as bench.officer
sys.path.insert(0, scripts)
from bench_custody_gen import s10_for, RULES
d0 = dt.date(2018, 10, 1)
BASE = 700_000_000            # item numbers of the history
scans = {"recorded": 0}
def post(url, body):
    req = urllib.request.Request(url + "/api/v1/custody/scans", data=json.dumps(body).encode(), headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json", "Accept": "application/json"})
    for r in json.load(urllib.request.urlopen(req, timeout=300))["results"]:
        scans[r["status"]] = scans.get(r["status"], 0) + 1
prev_returns = []
post_s = 0.0
inspections = 0
for n in range(days):
    day = d0 + dt.timedelta(n)
    first = BASE + n * items
    day_items = [s10_for(first + i) for i in range(items)]
    targeted = day_items[:ntargets]          # the day's targets are presented the same day
    with open(os.path.join(data, "..", "p3-targets.csv"), "w") as f:
        f.write("s10,rule_code,rule_version,reason_code,targeted_at,targeted_by\n")
        for i, s in enumerate(targeted):
            code, reason = RULES[i % len(RULES)]
            f.write(f"{s},{code},1,{reason},{day.isoformat()}T06:{i % 60:02d}:00Z,ATS\n")
    subprocess.run([binary, "custody", "import", os.path.join(data, "..", "p3-targets.csv"), "--commit", "--data-dir", data,
                    ], check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(["faketime", "-f", f"@{day.isoformat()} 08:00:00", binary, "serve", "--data-dir", data, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=open(logf, "a"), text=True, start_new_session=True)
    try:
        m = re.search(r"(http://127\.0\.0\.1:\d+)", server.stdout.readline())
        if not m:
            sys.exit("the server did not start under faketime")
        url = m.group(1)
        t = time.perf_counter()
        # Yesterday's items go back to the carrier: the inspected targets as they are, the
        # untargeted (never inspected) ones released by a supervisor with a reason.
        for k in range(0, len(prev_returns), 1000):
            post(url, {"station": "HIST", "scans": [dict({"s10": s, "action": "return", "carrier": "USPS",
                       "client_scan_id": f"ret-{n}-{k + i}"}, **({} if inspected else {"supervisor": "bench.supervisor", "reason": "not targeted"}))
                       for i, (s, inspected) in enumerate(prev_returns[k:k + 1000])]})
        for k in range(0, items, 1000):
            post(url, {"station": "HIST", "scans": [{"s10": s, "action": "receive", "location": "RCV-1",
                       "client_scan_id": f"rcv-{n}-{k + i}"} for i, s in enumerate(day_items[k:k + 1000])]})
        post_s += time.perf_counter() - t
    finally:
        os.killpg(server.pid, signal.SIGTERM); server.wait(timeout=60)
        for _ in range(600):          # the server itself (faketime's child) has stopped too
            try:
                os.killpg(server.pid, 0); time.sleep(0.05)
            except ProcessLookupError:
                break
    # A few of the day's targets inspected (CLI, at 09:00 that day): the first without anomaly,
    # the others confirmed positive.
    for i, s in enumerate(targeted[:ninspect]):
        ft = ["faketime", "-f", f"@{day.isoformat()} 09:{i % 60:02d}:00"]
        subprocess.run(ft + [binary, "custody", "inspect", "start", s, "--method", "xray", "--location", "RCV-1", "--data-dir", data],
                       check=True, stdout=subprocess.DEVNULL, env=officer)
        res = ["--result", "no_anomaly"] if i == 0 else ["--result", "confirmed_positive", "--found", "test substance"]
        ft = ["faketime", "-f", f"@{day.isoformat()} 09:{i % 60:02d}:30"]
        subprocess.run(ft + [binary, "custody", "inspect", "end", s, *res, "--data-dir", data],
                       check=True, stdout=subprocess.DEVNULL, env=officer)
        inspections += 1
    prev_returns = [(s, True) for s in targeted[:1]] + [(s, False) for s in day_items[ntargets:]]
    if n % 10 == 0 or n == days - 1:
        print(f"  day {day}: {scans}, {inspections} inspections, {post_s:.0f} s in the batch API", file=sys.stderr)
print(json.dumps({"days": days, "first_day": d0.isoformat(), "last_day": (d0 + dt.timedelta(days - 1)).isoformat(),
                  "items_per_day": items, "targets_per_day": ntargets, "inspections": inspections, "scans": scans, "post_seconds": post_s,
                  "batch_scans_per_s": sum(scans.values()) / post_s if post_s else None}))
EOF
  t1=$(date +%s)
  LAST=$(jget "$RES/p3.history.json" last_day); FIRST=$(jget "$RES/p3.history.json" first_day)
  log "  history built in $((t1 - t0)) s: $(jget "$RES/p3.history.json" scans); batch API $(python3 -c "print(round($(jget "$RES/p3.history.json" batch_scans_per_s)))") scans/s"
  # The last day's evening (faketime -f takes one argument: through a small wrapper). Every
  # report below names its as_of, so on PostgreSQL the server runs on the real clock.
  printf '#!/bin/sh\nexec faketime -f "@%s 20:00:00" "$@"\n' "$LAST" >"$TMP/ft" && chmod +x "$TMP/ft"
  SERVE_PREFIX="$TMP/ft"
  if [ -n "$P3_DB_URL" ]; then
    log "  migrate into $P3_DB   load $(loadavg)"
    t0=$(date +%s)
    rk migrate --from "$H" --to "$P3_DB_URL" ${P3_BLOBS:+--blob-store "$P3_BLOBS"} --json >"$RES/p3.migrate.json"
    log "  copied in $(( $(date +%s) - t0 )) s"
    export RECORDKEEPER_DATABASE_URL=$P3_DB_URL
    [ -n "$P3_BLOBS" ] && export RECORDKEEPER_BLOB_STORE=$P3_BLOBS
    SERVE_PREFIX=
    ATOKEN=$(token_of bench.auditor)
  fi
  start_server "$H" "$HLOG"
  NEXT=$(python3 -c "import datetime as dt; print(dt.date.fromisoformat('$LAST') + dt.timedelta(1))")
  END=$(python3 -c "import datetime as dt; print(dt.date.fromisoformat('$LAST') + dt.timedelta(1))")
  P3Q=(
    "balance|balance?day=$LAST"
    "not-presented|not-presented?from=$LAST&to=$NEXT&as_of=${NEXT}T20:00:00Z"
    "not-inspected|not-inspected?from=$LAST&to=$NEXT&as_of=${NEXT}T20:00:00Z"
    "late|late?from=$LAST&to=$NEXT&as_of=${NEXT}T20:00:00Z"
    "aging|aging?from=$LAST&to=$NEXT&as_of=${NEXT}T20:00:00Z"
    "latency|latency?from=$LAST&to=$NEXT&as_of=${NEXT}T20:00:00Z"
    "effectiveness-window|effectiveness?from=$FIRST&to=$END&as_of=${NEXT}T20:00:00Z"
  )
  : >"$TMP/p3.reports.tsv"
  for q in "${P3Q[@]}"; do
    name=${q%%|*}; path=${q#*|}
    for run in 0 1 2; do   # run 0 warms the page cache
      t0=$(date +%s%N)
      code=$(curl -s -o "$TMP/p3-$name.json" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H 'Accept: application/json' "$URL/api/v1/custody/reports/$path")
      t1=$(date +%s%N)
      printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$(( (t1 - t0) / 1000 ))" "$code" "$(stat -c %s "$TMP/p3-$name.json")" >>"$TMP/p3.reports.tsv"
    done
    log "  $name: $(awk -F'\t' -v n="$name" '$1 == n {printf "%s%.0f ms (HTTP %s)", sep, $3 / 1000, $4; sep=", "}' "$TMP/p3.reports.tsv")"
  done
  stop_server
  PGBYTES=0
  [ -n "${P3_DB:-}" ] && PGBYTES=$(/usr/lib/postgresql/15/bin/psql -q -X -t -A "$ADMIN_URL" -c "SELECT pg_database_size('$P3_DB')")
  python3 - "$TMP/p3.reports.tsv" "$RES/p3.history.json" "$H" "$PGBYTES" >"$RES/p3.json" <<'EOF'
import json, os, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
out = {}
for name, run, us, code, size in rows:
    o = out.setdefault(name, {"runs_ms": [], "http": code, "bytes": int(size)})
    o["runs_ms"].append(int(us) / 1000)
for o in out.values():
    o["best_warm_ms"] = min(o["runs_ms"][1:]) if len(o["runs_ms"]) > 1 else o["runs_ms"][0]
h = json.load(open(sys.argv[2]))
data = sys.argv[3]
db = int(sys.argv[4]) or sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("archive.sqlite"))
print(json.dumps({"history": h, "reports": out, "archive_bytes": db, "backend": "postgresql" if int(sys.argv[4]) else "sqlite"}))
EOF
fi

# ── 6. report ────────────────────────────────────────────────────────────────────────────────
python3 - "$RES" "$GIT_COMMIT" "$P3" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$(nproc)" "$(loadavg)" <<'EOF' | tee "$RES/report.txt"
import json, os, sys
res, commit, p3, model, cpus, load = sys.argv[1:7]
p1 = json.load(open(f"{res}/p1.json")); fl = json.load(open(f"{res}/p1.floor.json")); p2 = json.load(open(f"{res}/p2.json"))
def ok(c): return "ok  " if c else "MISS"
print(f"Custody benchmark (issue 15, CUSTODY.md §7), commit {commit}; {cpus} × {model}; load at end {load}")
print("Figures are from one run on a shared 2-core machine (another build may be running): compare ratios, not absolute speeds.")
print()
print(f"P1 import of {p1['rows']:,} target rows (custody import --commit, one process):")
print(f"  {ok(p1['rows_per_s'] >= 17000)} rate      {p1['rows_per_s']:,.0f} rows/s ({p1['wall']:.1f} s wall, {p1['user']:.1f} s user, {p1['sys']:.1f} s sys)   target ≥ 17,000")
print(f"  {ok(p1['rss_mb'] <= 512)} peak RSS  {p1['rss_mb']:,.0f} MB   target ≤ 512")
print(f"       floor     {fl['rows_per_s']:,.0f} rows/s (SQLite {fl['sqlite_version']}, {fl['driver']}, one transaction, UNIQUE(s10, rule, version), WAL, synchronous=FULL)")
print(f"       ours ÷ floor {p1['ratio_to_floor']:.3f}   (archive after: {p1['archive_bytes_after'] / 1e6:,.0f} MB; load {p1['load_start']} → {p1['load_end']})")
print()
print("P2 scans through POST /api/v1/custody/scans (loopback; client latency is an upper bound of the server's):")
for name, d in p2["phases"].items():
    l, s, due = d["latency_ms"], d.get("server_ms") or {}, d["latency_from_due_ms"]
    rate_ok = d["achieved_scans_per_s"] >= 0.98 * d["target_rate"]
    p95 = s.get("p95")
    print(f"  {name}: {d['target_rate']:g} scans/s × {d['duration_planned']:g} s, {d['batch']} scan(s)/request, {d['stations']} stations")
    print(f"    {ok(rate_ok)} achieved  {d['achieved_scans_per_s']:,.1f} scans/s recorded ({d['statuses']}, HTTP {d['http']}, {d['error_count']} errors)")
    if p95 is not None:
        print(f"    {ok(p95 <= 50)} server    p50 {s['p50']:.1f} / p95 {s['p95']:.1f} / p99 {s['p99']:.1f} / max {s['max']:.1f} ms per request (request log, n={s['n']})   target p95 ≤ 50")
    print(f"         client    p50 {l['p50']:.1f} / p95 {l['p95']:.1f} / p99 {l['p99']:.1f} / max {l['max']:.1f} ms per request; from due time p99 {due['p99']:.1f} ms")
    per = d.get('server_cpu_s', float('nan')) / max(1, d['statuses'].get('recorded', 0)) * 1000
    print(f"         CPU       server {d.get('server_cpu_s', float('nan')):.1f} s ({per:.2f} ms a scan), load generator {d['loadgen_cpu_s']:.1f} s over {d['seconds']:.1f} s; load {d['load_start']} → {d['load_end']}")
c = p2["check"]
print(f"  {ok(p2['lost'] == 0 and p2['doubled'] == 0)} lost {p2['lost']}, doubled {p2['doubled']}: sent {p2['scans_sent']:,}, recorded {p2['recorded']:,}, R-BAL received {p2['balance_received']:,}"
      f" (after resending {c['resent']}: {p2['balance_received_after_resend']:,}; answered {c['resent_statuses']}); events per item in a sample of {c['sample']}: {c['events_per_item']}")
print(f"       R-BAL over the run's day(s): {p2['balance_seconds']:.2f} s")
if p3 == "1" and os.path.exists(f"{res}/p3.json"):
    p = json.load(open(f"{res}/p3.json")); h = p["history"]
    print()
    print(f"P3 reports over a history of {h['days']} days ({h['first_day']} – {h['last_day']}), {h['items_per_day']:,} receipts, {h['targets_per_day']} targets and {h['inspections'] // h['days']} inspections a day;"
          f" scans {h['scans']}; archive {p['archive_bytes'] / 1e6:,.0f} MB ({p.get('backend', 'sqlite')}); batch API {h['batch_scans_per_s']:,.0f} scans/s")
    for name, r in p["reports"].items():
        limit = 60_000 if name.startswith("effectiveness") else 2_000
        print(f"  {ok(r['best_warm_ms'] <= limit and r['http'] == '200')} {name:22s} {r['best_warm_ms']:8.0f} ms warm (runs {', '.join(f'{x:.0f}' for x in r['runs_ms'])} ms; HTTP {r['http']})   target ≤ {limit:,} ms")
EOF
log "results in $RES (report.txt and one JSON file per measurement)"
[ "$LOST" = 0 ] && [ "$DOUBLED" = 0 ] || { log "events were lost ($LOST) or doubled ($DOUBLED)"; exit 1; }
