#!/usr/bin/env bash
# verify over custody records (issue 15, CUSTODY.md §7 P5): `recordkeeper verify` over 100 M
# audit entries in <= 30 min, and the verification of one day (`verify --day`) in <= 30 s.
#
# Builds an archive whose every row went through the product: DAYS days, each with ITEMS receipt
# scans written by `custody receive` (in batches of 5,000, as a station's uploads would come)
# under libfaketime, so each day's audit entries carry that day's stamp. Then, in the same run:
#   - the whole archive's verify (release build), its rate in audit entries a second and its peak
#     memory; the 100 M figure is that rate extrapolated (the work is linear: every entry and event
#     read once, paired as they stream by);
#   - verify --day for one middle day, its time for that day's entries and events;
#   - the floors: SQLite reading the same rows (python3's sqlite3, one core, no hashing) and
#     openssl's single-core SHA-256 over 256-byte blocks.
# A measurement, not a test: a missed target is reported as MISS and the script exits 0.
#
# Usage: scripts/bench_verify_custody.sh
# Environment: BENCH_DIR (default /tmp/recordkeeper-bench; results in $BENCH_DIR/results-verify-custody),
#   BENCH_BIN (a built binary: skips the release build), BENCH_SCRATCH (build folder, default .build),
#   BENCH_VERIFY_DAYS (4), BENCH_VERIFY_ITEMS (250000 receipts a day). The archive is kept in
#   $BENCH_DIR/verify-custody and reused when made with the same settings.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/recordkeeper-bench}
DAYS=${BENCH_VERIFY_DAYS:-4}
ITEMS=${BENCH_VERIFY_ITEMS:-250000}

log() { printf '[bench-verify-custody %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
trap 'rc=$?; log "FAILED (exit $rc) at line $LINENO: $BASH_COMMAND"; exit $rc' ERR
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

for tool in python3 openssl faketime /usr/bin/time; do
  command -v "$tool" >/dev/null || { log "missing required tool: $tool (faketime: apt-get install faketime)"; exit 1; }
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
A="$BENCH_DIR/verify-custody"
RES="$BENCH_DIR/results-verify-custody"
rm -rf "$RES" && mkdir -p "$RES"
TMP=$(mktemp -d "$BENCH_DIR/verify-custody-tmp.XXXXXX")
# shellcheck source=scripts/bench_custody_lib.sh
. scripts/bench_custody_lib.sh
trap 'rm -rf "$TMP"' EXIT
bench_binary

# ── 1. the archive: DAYS days of receipts, each day under its own clock ─────────────────────
spec="days=$DAYS items=$ITEMS"
if [ -f "$A/bench-spec" ] && [ "$(cat "$A/bench-spec")" = "$spec" ]; then
  log "reusing the archive in $A ($spec)"
else
  rm -rf "$A"
  faketime "2026-11-01 06:00:00" "$BIN" init --data-dir "$A" >/dev/null
  faketime "2026-11-01 06:00:01" "$BIN" custody location add RCV-1 --name Dock --kind receiving --secured --alarmed --cctv --data-dir "$A" >/dev/null
  for d in $(seq 1 "$DAYS"); do
    day=$(date -u -d "2026-11-01 + $d days" +%Y-%m-%d)
    python3 - "$d" "$ITEMS" > "$TMP/items" <<'EOF'
import sys
W = [8, 6, 4, 2, 3, 5, 9, 7]
d, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(d * 10_000_000, d * 10_000_000 + n):
    s = f"{i:08d}"
    k = 11 - sum(int(x) * w for x, w in zip(s, W)) % 11
    print(f"LX{s}{5 if k == 11 else 0 if k == 10 else k}CN")
EOF
    t0=$(date +%s.%N)
    # The clock moved back (or on) to 08:00 that day and running, the same offset for every
    # batch: the day's entries carry its stamp, in order.
    off=$(( $(date -u -d "$day 08:00:00" +%s) - $(date +%s) ))
    [ "$off" -ge 0 ] && off="+$off"
    faketime -f "$off" xargs -n 5000 "$BIN" custody receive --location RCV-1 --data-dir "$A" < "$TMP/items" > /dev/null
    log "day $day: $ITEMS receipts in $(python3 -c "import sys; print(round($(date +%s.%N) - $t0, 1))") s"
  done
  echo "$spec" > "$A/bench-spec"
fi
DB="$A/archive.sqlite"
ENTRIES=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM audit_log').fetchone()[0])" "$DB")
EVENTS=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM custody_event').fetchone()[0])" "$DB")
log "archive: $ENTRIES audit entries, $EVENTS custody events, $(du -sm "$A" | cut -f1) MB"

# ── 2. the floors ───────────────────────────────────────────────────────────────────────────
python3 - "$DB" > "$RES/floor.json" <<'EOF'
import json, sqlite3, sys, time
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
db.execute("PRAGMA cache_size = -65536")
audit = "SELECT count(*), sum(length(at) + length(actor) + length(action) + length(target) + length(detail) + length(prev_hash) + length(hash)) FROM audit_log"
events = ("SELECT count(*), sum(coalesce(length(e.type),0) + length(e.at) + length(e.actor) + coalesce(length(e.to_location),0) + coalesce(length(e.station_id),0)"
          " + coalesce(length(e.detail),0) + length(e.hash) + length(i.s10)) FROM custody_event e JOIN custody_item i ON i.id = e.item_id")
for q in (audit, events): db.execute(q).fetchone()   # warm-up: the OS page cache, as verify finds it
best = None
for _ in range(2):
    t = time.perf_counter(); a = db.execute(audit).fetchone(); e = db.execute(events).fetchone(); s = time.perf_counter() - t
    best = s if best is None or s < best else best
print(json.dumps({"sqlite": sqlite3.sqlite_version, "entries": a[0], "events": e[0], "bytes": a[1] + e[1], "seconds": round(best, 3)}))
EOF
SHA=$(openssl speed -bytes 256 -seconds 2 sha256 2>/dev/null | awk '/^sha256/ {print $NF}' | sed 's/k$//')
log "floor: $(cat "$RES/floor.json"); openssl sha256 (256-byte blocks, one core): ${SHA} kB/s"

# ── 3. the whole verify, then one day's ─────────────────────────────────────────────────────
run_timed() { # name, args…: wall seconds and peak RSS into $RES/name.time
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$RES/$name.time" "$BIN" "$@" > "$RES/$name.out" 2>"$RES/$name.err" || true
}
"$BIN" verify --data-dir "$A" >/dev/null 2>&1 || true    # warm: the file in the OS page cache
run_timed whole verify --data-dir "$A" --json
mid=$(date -u -d "2026-11-01 + $(( (DAYS + 1) / 2 )) days" +%Y-%m-%d)
run_timed day verify --day "$mid" --data-dir "$A" --json

python3 - "$RES" "$ENTRIES" "$EVENTS" "$SHA" "$GIT_COMMIT" "$mid" <<'EOF'
import json, sys
res, entries, events, sha, commit, mid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4] or 0), sys.argv[5], sys.argv[6]
floor = json.load(open(f"{res}/floor.json"))
def load(name):
    secs, rss = open(f"{res}/{name}.time").read().split()
    out = json.load(open(f"{res}/{name}.out"))
    return float(secs), int(rss) // 1024, out
ws, wrss, whole = load("whole")
ds, drss, day = load("day")
rate = whole["audit_entries_checked"] / ws
full100 = 100_000_000 / rate / 60
floor_rate = floor["entries"] / floor["seconds"]
print(f"commit {commit}; archive {entries} audit entries, {events} custody events")
print(f"whole verify: {ws:.1f} s, peak RSS {wrss} MB, ok={whole['ok']}: {rate:,.0f} audit entries/s (and as many events)")
print(f"  100 M audit entries at that rate: {full100:.1f} min (target <= 30): {'ok' if full100 <= 30 else 'MISS'}")
print(f"  floor: SQLite reads the same rows at {floor_rate:,.0f} entries/s (no hashing, one core): verify = {rate / floor_rate:.2f}x the floor")
print(f"  openssl sha256, 256-byte blocks, one core: {sha / 1000:.0f} MB/s")
print(f"one day ({mid}): {ds:.2f} s for {day['audit_entries_checked']} entries and {day['custody_events_checked']} events, peak RSS {drss} MB, ok={day['ok']}"
      f" (target <= 30 s): {'ok' if ds <= 30 else 'MISS'}")
json.dump({"commit": commit, "entries": entries, "events": events, "whole_seconds": ws, "whole_rss_mb": wrss, "entries_per_second": round(rate),
           "minutes_for_100m": round(full100, 1), "floor_entries_per_second": round(floor_rate), "day": mid, "day_seconds": ds,
           "day_entries": day["audit_entries_checked"], "day_events": day["custody_events_checked"], "day_rss_mb": drss, "sha256_kBps": sha},
          open(f"{res}/summary.json", "w"), indent=1)
EOF
