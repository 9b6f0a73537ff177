#!/usr/bin/env bash
# Load test for `recordkeeper serve` (issue 17 item 4), on the 1M-message benchmark archive.
#
# Targets (from the issue): zero errors, and search p99 < 100 ms, under 50 concurrent users
# searching, browsing and exporting while an ingest runs (2-core machine); slow clients
# (slowloris) and huge request bodies must not starve the others; expensive endpoints are
# rate-limited per user. Like scripts/bench.sh this is a measurement, not a test: a missed target
# prints MISS and the script still exits 0. It exits non-zero only when a command fails; the
# server dying counts as one: it is recorded and started again, the remaining phases run, the
# report is printed, and the script exits 1.
#
# What it does:
#   1. the 1M-message export, made exactly as bench.sh makes it (`sample-export --messages
#      1000000 --style androidTxt --seed 1`, custodian bench@agency.example.gov); bench.sh's own
#      copy ($BENCH_DIR/exports/1m) is used when its spec matches;
#   2. a base archive: that export captured (`ingest --no-wait-index`, then `index catch-up`),
#      plus LOAD_USERS reviewers (load-u01…, each with a password and an API token) and one
#      records officer (load-officer, a token). It is kept in $LOAD_DIR/base-<messages> and
#      reused while its spec (export spec, users) matches; LOAD_REBUILD=1 makes it afresh. Every
#      run serves a fresh copy of it ($LOAD_DIR/run), so runs start from the same state;
#   3. `serve` on the copy, first with the per-user limits off (`--rate-limit 0`: a closed-loop
#      user is refused with 429 after its first burst, so capacity is measured without them),
#      later with the shipped defaults; LOAD_SERVE_ARGS are added to both. Every reviewer signs
#      in (POST /login) for the HTML pages; request lists are built from the archive (message ids
#      sampled from its transcripts) and from bench.sh's query set (scripts/load_setup.py);
#   4. wrk (Debian's; installed when missing) with scripts/load_wrk.lua: one thread per
#      connection and one user per connection, LOAD_CONNECTIONS (50) connections, for
#      LOAD_DURATION seconds per scenario; closed loop (the next request as soon as the last is
#      answered) unless a think time is given. Limits off:
#        floor        GET /health (the HTTP floor: no sign-in, one store question), no ingest
#        search-idle  the search scenario with no ingest running (reference)
#        mixed-idle   the mixed scenario below with no ingest running (reference)
#        — from here a background loop ingests further generated exports (LOAD_INGEST_MESSAGES
#          each, new seeds, custodian load-ingest@agency.example.gov) with `recordkeeper ingest`
#          into the same archive, until the paced scenario ends —
#        search       GET /api/v1/search: bench.sh's 18 queries × both orders × pages 1–3
#        browse-api   conversations, transcript pages of 200, records, participants (API)
#        browse-html  search page, conversation list, transcript pages, a transcript opened at a
#                     message, record pages (session cookie)
#        export       transcript pages of 1,000, a custodian's week collected by filters and full
#                     pages of 200 hits (API)
#        mixed        all four at once, 50 users in all (25 search, 10 browse-api, 10
#                     browse-html, 5 export), LOAD_MIXED_DURATION seconds
#      Shipped defaults (per-user limits, idle timeout):
#        searchers    the search scenario, each user with a think time of LOAD_THINK_MS (1000) ± 50%
#        paced        the mixed scenario with a think time of LOAD_THINK_MS (1000) ± 50% per user
#   5. hostile clients (shipped defaults, no ingest), each beside 50 paced searchers as the
#      normal clients, compared with the same run just before without them
#      (scripts/load_attack.py):
#        slowloris    LOAD_SLOWLORIS (500) connections sending a header byte every
#                     LOAD_SLOW_INTERVAL (5) seconds; one the server closes is opened again
#        huge-fast    LOAD_HUGE_MB (2000) MB bodies as fast as possible to POST /api/v1/ingest
#                     (officer token, and no token), POST /login, GET /health
#        huge-slow    LOAD_SLOW_BODIES (25) connections per target declaring LOAD_HUGE_MB and
#                     sending 1 KiB/s
#        slowloris-flood  100 more slowloris connections than the server's open-file limit
#      Slow clients are held for LOAD_SLOW_HOLD (120) seconds, longer than the normal clients
#      run, to see whether the server ever times them out; after each attack, GET /health must
#      answer within 10 s.
#   6. per-user rate limit (shipped defaults): one user hammers an expensive search (relevance,
#      broad prefix, 200 hits) on 10 connections while a second user asks the same once a
#      second: is the first refused (429) and the second not?
# The load average (1/5/15 min) is recorded at the start and end of every measurement, and the
# server's memory, open files and CPU, the machine's CPU and the size of the archive's SQLite
# write-ahead log throughout (per phase).
#
# Usage: scripts/load.sh
#        RECORDKEEPER_BIN=/path/to/recordkeeper scripts/load.sh   (else builds release with
#          `swift build -c release --product recordkeeper --scratch-path ${LOAD_SCRATCH:-.build-release}`)
# Environment: LOAD_DIR (default /tmp/load-recordkeeper), LOAD_MESSAGES (1000000),
#   LOAD_USERS (50), LOAD_CONNECTIONS (50), LOAD_DURATION (30), LOAD_MIXED_DURATION (60),
#   LOAD_INGEST_MESSAGES (250000), LOAD_SLOWLORIS (500), LOAD_SLOW_INTERVAL (5),
#   LOAD_HUGE_MB (2000), LOAD_HUGE_TIMEOUT (600: longest a fast huge body is sent),
#   LOAD_SLOW_BODIES (25), LOAD_SLOW_HOLD (120: slow clients are held at least this long),
#   LOAD_SLOWLORIS_FLOOD (default: the server's open-file limit + 100; 0 skips), LOAD_THINK_MS
#   (1000), LOAD_SERVE_ARGS (more `serve` options, e.g. "--idle-timeout 10"), LOAD_REBUILD=1,
#   LOAD_SKIP_ATTACKS=1,
#   BENCH_DIR (where bench.sh keeps its exports; default /tmp/recordkeeper-bench).
# Results: $LOAD_DIR/results/*.json (one per measurement), the wrk and server logs beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

LOAD_DIR=${LOAD_DIR:-/tmp/load-recordkeeper}
MESSAGES=${LOAD_MESSAGES:-1000000}
USERS=${LOAD_USERS:-50}
CONNS=${LOAD_CONNECTIONS:-50}
DURATION=${LOAD_DURATION:-30}
MIXED_DURATION=${LOAD_MIXED_DURATION:-60}
INGEST_MESSAGES=${LOAD_INGEST_MESSAGES:-250000}
SLOWLORIS=${LOAD_SLOWLORIS:-500}
SLOW_INTERVAL=${LOAD_SLOW_INTERVAL:-5}
HUGE_MB=${LOAD_HUGE_MB:-2000}
SLOW_BODIES=${LOAD_SLOW_BODIES:-25}
SLOW_HOLD=${LOAD_SLOW_HOLD:-120}
HUGE_TIMEOUT=${LOAD_HUGE_TIMEOUT:-600}
THINK_MS=${LOAD_THINK_MS:-1000}
SEED=1                                  # bench.sh's seed
CUSTODIAN=bench@agency.example.gov      # bench.sh's custodian
INGEST_CUSTODIAN=load-ingest@agency.example.gov
WRK_TIMEOUT=60s                         # a slow answer is measured, not dropped as a timeout

log() { printf '[load %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
trap 'rc=$?; log "FAILED (exit $rc) at line $LINENO: $BASH_COMMAND"; exit $rc' ERR
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
jget() { python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[k]
print(v)' "$1" "$2"; }

[ "$USERS" -ge "$CONNS" ] || { log "LOAD_USERS ($USERS) must be at least LOAD_CONNECTIONS ($CONNS): one user per connection"; exit 1; }
[ "$CONNS" -ge 5 ] || { log "LOAD_CONNECTIONS must be at least 5 (the mixed scenario splits them four ways)"; exit 1; }

# ── 0. tools and binary ──────────────────────────────────────────────────────────────────────
if ! command -v wrk >/dev/null; then
  log "installing wrk (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >&2 || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >&2; }
fi
for tool in python3 wrk; do command -v "$tool" >/dev/null || { log "missing required tool: $tool"; exit 1; }; done
WRK_VERSION=$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2 || true)

if [ -n "${RECORDKEEPER_BIN:-}" ]; then
  BIN=$(readlink -f "$RECORDKEEPER_BIN")
else
  SCRATCH=${LOAD_SCRATCH:-.build-release}
  log "building release binary (swift build -c release --product recordkeeper --scratch-path $SCRATCH)"
  swift build -c release --product recordkeeper --scratch-path "$SCRATCH" >&2
  BIN="$ROOT/$SCRATCH/release/recordkeeper"
fi
[ -x "$BIN" ] || { log "no binary at $BIN"; exit 1; }
GIT_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && GIT_COMMIT="$GIT_COMMIT (working tree modified)"
BUILD_KIND=$(case "$BIN" in */debug/*) echo debug ;; */release/*) echo release ;; *) echo "unknown (not under debug/ or release/)" ;; esac)

mkdir -p "$LOAD_DIR"
LOAD_DIR=$(cd "$LOAD_DIR" && pwd)
RES="$LOAD_DIR/results"
rm -rf "$RES" && mkdir -p "$RES/wrk" "$RES/paths"
log "binary $BIN ($BUILD_KIND; HEAD now: $GIT_COMMIT); $WRK_VERSION; results in $RES"

# ── 1. the export (bench.sh's generator and seed; its copy reused when it matches) ───────────
gen_hash=$(cat Sources/RecordkeeperTesting/*.swift | sha256sum | cut -c1-16)
spec="messages=$MESSAGES style=androidTxt seed=$SEED generator=$gen_hash"
export_ok() {   # export_ok DIR → prints the export's path when DIR/.bench-spec matches $spec
  local old_spec old_path old_bytes
  [ -f "$1/.bench-spec" ] || return 1
  IFS=$'\t' read -r old_spec old_path old_bytes <"$1/.bench-spec" || true
  [ "$old_spec" = "$spec" ] && [ -f "$old_path" ] && [ "$(stat -c %s "$old_path")" = "$old_bytes" ] && echo "$old_path"
}
bench_size=$(case "$MESSAGES" in 100000) echo 100k ;; 1000000) echo 1m ;; 10000000) echo 10m ;; *) echo none ;; esac)
if EXPORT=$(export_ok "${BENCH_DIR:-/tmp/recordkeeper-bench}/exports/$bench_size"); then
  log "reusing bench.sh's export: $EXPORT"
elif EXPORT=$(export_ok "$LOAD_DIR/exports/$MESSAGES"); then
  log "reusing export: $EXPORT"
else
  dir="$LOAD_DIR/exports/$MESSAGES"
  log "generating the $MESSAGES-message export (as bench.sh: androidTxt, seed $SEED)"
  rm -rf "$dir" && mkdir -p "$dir"
  EXPORT=$("$BIN" sample-export --messages "$MESSAGES" --style androidTxt --out "$dir" --seed "$SEED" | tail -n1)
  [ -f "$EXPORT" ] || { log "sample-export did not produce a file (got: $EXPORT)"; exit 1; }
  printf '%s\t%s\t%s\n' "$spec" "$EXPORT" "$(stat -c %s "$EXPORT")" >"$dir/.bench-spec"
fi

# ── 2. the base archive (reused), users and tokens ───────────────────────────────────────────
BASE="$LOAD_DIR/base-$MESSAGES"
base_spec="$spec users=$USERS"
if [ "${LOAD_REBUILD:-0}" != 1 ] && [ -f "$BASE/.load-spec" ] && [ "$(cat "$BASE/.load-spec")" = "$base_spec" ] && [ -f "$BASE/.load-credentials.tsv" ]; then
  log "reusing base archive $BASE"
else
  log "building base archive $BASE: capture, index catch-up, $USERS reviewers + 1 records officer   load $(loadavg)"
  rm -rf "$BASE"
  RECORDKEEPER_DATA_DIR="$BASE" "$BIN" init >/dev/null
  t0=$(date +%s)
  RECORDKEEPER_DATA_DIR="$BASE" "$BIN" ingest "$EXPORT" --custodian "$CUSTODIAN" --timezone UTC --json --no-wait-index >"$LOAD_DIR/base-capture.json"
  RECORDKEEPER_DATA_DIR="$BASE" "$BIN" index catch-up >&2
  RECORDKEEPER_DATA_DIR="$BASE" "$BIN" index status --json >"$LOAD_DIR/base-index.json"
  pending=$(jget "$LOAD_DIR/base-index.json" coverage.not_yet_searchable)
  [ "$pending" = 0 ] || { log "index catch-up left $pending messages unindexed"; exit 1; }
  log "  captured and indexed in $(( $(date +%s) - t0 )) s"
  creds="$BASE/.load-credentials.tsv.tmp"
  : >"$creds" && chmod 600 "$creds"
  for i in $(seq -w 1 "$USERS"); do
    name="load-u$i"
    pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
    printf '%s\n' "$pw" | RECORDKEEPER_DATA_DIR="$BASE" "$BIN" user add "$name" --role reviewer --password-stdin >/dev/null
    tok=$(RECORDKEEPER_DATA_DIR="$BASE" "$BIN" user token create "$name" --label "scripts/load.sh" 2>/dev/null | grep -oE '\brk_[A-Za-z0-9_-]+' | head -n1)
    [ -n "$tok" ] || { log "no token secret printed for $name"; exit 1; }
    printf '%s\t%s\t%s\n' "$name" "$pw" "$tok" >>"$creds"
  done
  RECORDKEEPER_DATA_DIR="$BASE" "$BIN" user add load-officer --role records-officer >/dev/null
  tok=$(RECORDKEEPER_DATA_DIR="$BASE" "$BIN" user token create load-officer --label "scripts/load.sh huge bodies" 2>/dev/null | grep -oE '\brk_[A-Za-z0-9_-]+' | head -n1)
  printf '%s\t%s\t%s\n' load-officer - "$tok" >"$BASE/.load-officer.tsv"
  mv "$creds" "$BASE/.load-credentials.tsv"
  echo "$base_spec" >"$BASE/.load-spec"
fi

# ── 3. a fresh copy, served ──────────────────────────────────────────────────────────────────
RUN="$LOAD_DIR/run"
rm -rf "$RUN"
cp -a "$BASE" "$RUN"
cut -f3 "$RUN/.load-credentials.tsv" >"$RES/tokens.txt"
OFFICER_TOKEN=$(cut -f3 "$RUN/.load-officer.tsv")
chmod 600 "$RES/tokens.txt"

PIDS=()          # background processes this script started (stopped on exit)
SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_server
}
trap cleanup EXIT

# start_server LABEL ARGS…: `serve` on the run copy, on a free port; sets SERVER_PID, URL, PORT.
SERVER_LABEL=""
SERVER_ARGS=()
start_server() {
  SERVER_LABEL=$1
  shift
  SERVER_ARGS=("$@")
  echo "$*" >"$RES/server-$SERVER_LABEL.args"
  "$BIN" serve --data-dir "$RUN" --port 0 "$@" >"$RES/server-$SERVER_LABEL.out" 2>"$RES/server-$SERVER_LABEL.log" &
  SERVER_PID=$!
  echo "$SERVER_PID" >"$RES/server.pid"
  PORT=""
  for _ in $(seq 1 240); do
    PORT=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$RES/server-$SERVER_LABEL.out" 2>/dev/null | head -n1 | grep -oE '[0-9]+/$' | tr -d / || true)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { log "serve exited:"; tail -n 20 "$RES/server-$SERVER_LABEL.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -n "$PORT" ] || { log "serve did not print its address in 120 s"; exit 1; }
  URL="http://127.0.0.1:$PORT"
  NOFILE=$(awk '/Max open files/ {print $4}' "/proc/$SERVER_PID/limits")
  log "serve [$SERVER_LABEL: ${*:-defaults}] (pid $SERVER_PID) on $URL; its open-file limit $NOFILE"
}

# server_alive PHASE: when the server died, records it ($RES/crash-N.json), says so, and starts
# it again (same options) so that the remaining phases still run; the script then exits 1.
CRASHES=0
server_alive() {
  kill -0 "$SERVER_PID" 2>/dev/null && return 0
  local rc=0
  wait "$SERVER_PID" 2>/dev/null || rc=$?
  CRASHES=$((CRASHES + 1))
  log "the server DIED during $1 (pid $SERVER_PID, exit status $rc); last lines of its log:"
  grep -v 'hb.request.id=.* ms=' "$RES/server-$SERVER_LABEL.log" | tail -n 5 >&2
  python3 - "$1" "$rc" "$RES/server-$SERVER_LABEL.log" "$(date +%s.%N)" >"$RES/crash-$CRASHES.json" <<'EOF'
import json, signal, sys
phase, rc, log, t = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
sig = rc - 128 if rc > 128 else None
lines = [l.rstrip() for l in open(log, errors="replace") if l.strip()]
tail = [l[l.index("*** Signal"):] if "*** Signal" in l else l for l in lines if "ms=" not in l or "*** Signal" in l][-3:]
last = next((l[:25] for l in reversed(lines) if l[:4].isdigit()), None)      # when it last logged
print(json.dumps({"phase": phase, "exit_status": rc, "signal": sig, "signal_name": signal.Signals(sig).name if sig else None,
                  "log_tail": tail, "last_logged": last, "t": t}))
EOF
  SERVER_PID=""
  start_server "${SERVER_LABEL%-restart*}-restart$CRASHES" "${SERVER_ARGS[@]}"
}

health_after() {   # health_after NAME: does GET /health answer within 10 s once the attackers left?
  python3 - "$URL" "$RES/$1.health.json" <<'EOF'
import json, sys, time, urllib.request
t0 = time.monotonic()
try:
    status = urllib.request.urlopen(sys.argv[1] + "/health", timeout=10).status
except Exception as e:
    status = type(e).__name__
json.dump({"status": status, "seconds": round(time.monotonic() - t0, 3)}, open(sys.argv[2], "w"))
EOF
}

# The server's resident memory, open files and CPU, the machine's CPU and the archive's WAL size,
# every half second, for per-phase figures (follows restarts).
( while true; do
    pid=$(cat "$RES/server.pid" 2>/dev/null || true)
    # time, server RSS (KiB), its open files, its CPU ticks (user + system), machine ticks (all,
    # idle), the size of the archive's write-ahead log (bytes)
    [ -n "$pid" ] && echo "$(date +%s.%N) $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)" \
      "$(ls "/proc/$pid/fd" 2>/dev/null | wc -l) $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)" \
      "$(awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat)" \
      "$(stat -c %s "$RUN/archive.sqlite-wal" 2>/dev/null || echo 0)"
    sleep 0.5
  done >>"$RES/server-rss.txt" ) &
PIDS+=($!)

# Capacity first: the per-user limits would answer a closed-loop user with 429 after its first
# burst, so they are off here (the phases that run on the defaults say so).
# shellcheck disable=SC2086
start_server limits-off --rate-limit 0 ${LOAD_SERVE_ARGS:-}

log "request lists and browser sessions"
python3 scripts/load_setup.py paths "$URL" "$(head -n1 "$RES/tokens.txt")" scripts/bench.sh "$RES/paths" "$SEED" >"$RES/paths.json"
python3 scripts/load_setup.py login "$URL" "$RUN/.load-credentials.tsv" "$RES/cookies.txt" >/dev/null
chmod 600 "$RES/cookies.txt"
log "  $(cat "$RES/paths.json")"

# run_wrk NAME PATHS AUTH CONNECTIONS SECONDS [CRED_OFFSET [CRED_COUNT [THINK_MS]]]: one wrk, one
# user per connection; writes $RES/NAME.json (wrk's figures, statuses, load average, time window,
# the server's configuration).
run_wrk() {
  local name=$1 paths=$2 auth=$3 c=$4 d=$5 off=${6:-0} cnt=${7:-0} think=${8:-0} creds l0 l1 t0 t1
  creds=$RES/tokens.txt
  [ "$auth" = cookie ] && creds=$RES/cookies.txt
  l0=$(loadavg); t0=$(date +%s.%N)
  LOAD_PATHS="$RES/paths/$paths.paths" LOAD_AUTH=$auth LOAD_CREDS=$creds LOAD_CRED_OFFSET=$off LOAD_CRED_COUNT=$cnt \
    LOAD_OUT="$RES/wrk/$name.json" LOAD_SEED=$SEED LOAD_THINK_MS=$think \
    wrk -t "$c" -c "$c" -d "${d}s" --timeout "$WRK_TIMEOUT" -s scripts/load_wrk.lua "$URL" >"$RES/wrk/$name.txt" 2>&1
  t1=$(date +%s.%N); l1=$(loadavg)
  python3 - "$RES/wrk/$name.json" "$name" "$paths" "$auth" "$l0" "$l1" "$t0" "$t1" "$SERVER_LABEL" >"$RES/$name.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d.update(name=sys.argv[2], paths=sys.argv[3], auth=sys.argv[4], load_start=sys.argv[5], load_end=sys.argv[6],
         t_start=float(sys.argv[7]), t_end=float(sys.argv[8]), server=sys.argv[9])
print(json.dumps(d))
EOF
}
summary() {   # one line of a run_wrk result
  python3 - "$RES/$1.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
non2xx = sum(v for k, v in d["statuses"].items() if not k.startswith("2"))
sock = sum(v for k, v in d["errors"].items() if k != "status")
print(f"{d['requests'] / d['duration_s']:.0f} req/s, p50 {d['p50_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms, max {d['max_ms']:.0f} ms, "
      f"non-2xx {non2xx}, socket errors {sock}   load {d['load_start']} → {d['load_end']}")
EOF
}
measure() {   # measure NAME PATHS AUTH CONNS SECONDS [CRED_OFFSET [CRED_COUNT [THINK_MS]]]
  local name=$1
  log "$name: $4 connections × ${5}s${8:+, think time ${8} ms}   load $(loadavg)"
  run_wrk "$@"
  server_alive "$name"
  log "  $name: $(summary "$name")"
}
# mixed NAME SECONDS THINK_MS: search, browse (API and HTML) and export at once, LOAD_CONNECTIONS
# users in all (half searching, a fifth browsing each way, the rest exporting), all distinct.
mixed() {
  local name=$1 d=$2 think=$3 c_search c_api c_html c_exp pids=()
  c_search=$((CONNS / 2)); c_api=$((CONNS / 5)); c_html=$((CONNS / 5)); c_exp=$((CONNS - c_search - c_api - c_html))
  log "$name: $c_search search + $c_api browse-api + $c_html browse-html + $c_exp export × ${d}s, think time $think ms   load $(loadavg)"
  run_wrk "$name-search" search bearer "$c_search" "$d" 0 "$c_search" "$think" & pids+=($!)
  run_wrk "$name-browse-api" browse_api bearer "$c_api" "$d" "$c_search" "$c_api" "$think" & pids+=($!)
  run_wrk "$name-browse-html" browse_html cookie "$c_html" "$d" $((c_search + c_api)) "$c_html" "$think" & pids+=($!)
  run_wrk "$name-export" export bearer "$c_exp" "$d" $((c_search + c_api + c_html)) "$c_exp" "$think" & pids+=($!)
  wait "${pids[@]}"
  server_alive "$name"
  for m in search browse-api browse-html export; do log "  $name-$m: $(summary "$name-$m")"; done
}

# ── 4. scenarios ─────────────────────────────────────────────────────────────────────────────
# What each kind of request costs alone (one client, idle server): the first 40 of each list.
for kind in search browse_api export browse_html; do
  auth=bearer secret=$(head -n1 "$RES/tokens.txt")
  [ "$kind" = browse_html ] && auth=cookie secret=$(head -n1 "$RES/cookies.txt")
  log "  unloaded cost, $kind: $(python3 scripts/load_setup.py profile "$URL" "$auth" "$secret" "$RES/paths/$kind.paths" 40 "$RES/profile-$kind.json")"
done

measure floor floor none "$CONNS" "$DURATION"
measure search-idle search bearer "$CONNS" "$DURATION"
mixed mixed-idle "$MIXED_DURATION" 0

# The concurrent ingest: generated exports (new seeds, reused between runs), one after another.
INGEST_DIR="$LOAD_DIR/exports/ingest-$INGEST_MESSAGES"
mkdir -p "$INGEST_DIR"
STOP="$RES/ingest.stop"
ingest_loop() {
  local i=0 dir path t0 t1 rc
  while [ ! -e "$STOP" ]; do
    i=$((i + 1))
    dir="$INGEST_DIR/$i"
    path=$(ls "$dir"/*.txt 2>/dev/null | head -n1 || true)
    if [ -z "$path" ]; then
      rm -rf "$dir" && mkdir -p "$dir"
      path=$("$BIN" sample-export --messages "$INGEST_MESSAGES" --style androidTxt --title "Load Ingest $i" --seed $((1000 + i)) --out "$dir" | tail -n1)
    fi
    t0=$(date +%s.%N)
    set +e
    RECORDKEEPER_DATA_DIR="$RUN" "$BIN" ingest "$path" --custodian "$INGEST_CUSTODIAN" --timezone UTC --json >"$RES/ingest-$i.json" 2>"$RES/ingest-$i.err"
    rc=$?
    set -e
    t1=$(date +%s.%N)
    printf '%s\t%s\t%s\t%s\n' "$i" "$rc" "$t0" "$t1" >>"$RES/ingest.tsv"
  done
}
: >"$RES/ingest.tsv"
ingest_loop &
INGEST_PID=$!
PIDS+=("$INGEST_PID")
log "concurrent ingest loop started ($INGEST_MESSAGES messages an export, custodian $INGEST_CUSTODIAN)"
sleep 2

measure search search bearer "$CONNS" "$DURATION"
measure browse-api browse_api bearer "$CONNS" "$DURATION"
measure browse-html browse_html cookie "$CONNS" "$DURATION"
measure export export bearer "$CONNS" "$DURATION"
mixed mixed "$MIXED_DURATION" 0

# The shipped configuration from here on: per-user limits and idle timeout at their defaults.
stop_server
# shellcheck disable=SC2086
start_server defaults ${LOAD_SERVE_ARGS:-}
measure searchers search bearer "$CONNS" "$DURATION" 0 0 "$THINK_MS"
mixed paced "$MIXED_DURATION" "$THINK_MS"

touch "$STOP"
log "waiting for the running ingest to finish"
wait "$INGEST_PID"
python3 - "$RES" >"$RES/ingest.json" <<'EOF'
import json, sys
res = sys.argv[1]
runs = []
for line in open(f"{res}/ingest.tsv"):
    i, rc, t0, t1 = line.split("\t")
    added = 0
    for l in open(f"{res}/ingest-{i}.json"):
        if l.strip().startswith("{"):
            added += json.loads(l).get("messages_added", 0)
    err = open(f"{res}/ingest-{i}.err").read().strip().splitlines()
    runs.append({"i": int(i), "rc": int(rc), "seconds": float(t1) - float(t0), "added": added, "t_start": float(t0), "t_end": float(t1),
                 "stderr_tail": err[-3:]})
print(json.dumps({"runs": runs}))
EOF
log "  ingest: $(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["runs"]
print(len(r), "exports,", sum(x["added"] for x in r), "messages added, exit codes", sorted({x["rc"] for x in r}), round(sum(x["seconds"] for x in r)), "s")' "$RES/ingest.json")"

# ── 5. hostile clients (shipped configuration; the normal clients are paced searchers) ───────
if [ "${LOAD_SKIP_ATTACKS:-0}" != 1 ]; then
  measure normal search bearer "$CONNS" "$DURATION" 0 0 "$THINK_MS"

  # attack NAME RAMP_S ARGS…: the attacker in the background, then the normal clients.
  attack() {
    local name=$1 ramp=$2 a0 a1
    shift 2
    a0=$(date +%s.%N)
    python3 scripts/load_attack.py "$@" >"$RES/$name.attack.json" 2>"$RES/$name.attack.err" &
    local apid=$!
    PIDS+=("$apid")
    sleep "$ramp"
    measure "$name" search bearer "$CONNS" "$DURATION" 0 0 "$THINK_MS"
    log "  waiting for the $name clients to finish"
    wait "$apid" || { log "load_attack.py $1 failed:"; cat "$RES/$name.attack.err" >&2; exit 1; }
    a1=$(date +%s.%N)
    python3 - "$RES/$name.attack.json" "$a0" "$a1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["t_start"], d["t_end"] = float(sys.argv[2]), float(sys.argv[3])
json.dump(d, open(sys.argv[1], "w"))
EOF
    server_alive "$name"
    health_after "$name"
    log "  $name attackers: $(head -c 600 "$RES/$name.attack.json")"
  }
  hold() { local d=$(( DURATION + $1 + 5 )); [ "$d" -gt "$SLOW_HOLD" ] && echo "$d" || echo "$SLOW_HOLD"; }
  ramp=$(( SLOWLORIS / 500 + 3 ))
  attack slowloris "$ramp" slowloris 127.0.0.1 "$PORT" "$SLOWLORIS" "$SLOW_INTERVAL" "$(hold "$ramp")"
  attack huge-fast 1 huge 127.0.0.1 "$PORT" fast "$HUGE_MB" "$HUGE_TIMEOUT" "$OFFICER_TOKEN"
  attack huge-slow 3 huge 127.0.0.1 "$PORT" slow "$HUGE_MB" "$(hold 3)" "$OFFICER_TOKEN" "$SLOW_BODIES"
  # More slow connections than the server may hold files open (its RLIMIT_NOFILE, plus 100).
  FLOOD=${LOAD_SLOWLORIS_FLOOD:-$( [ "$NOFILE" = unlimited ] && echo 0 || echo $(( NOFILE + 100 )) )}
  if [ "$FLOOD" != 0 ]; then
    ramp=$(( FLOOD / 5000 + 5 ))
    attack slowloris-flood "$ramp" slowloris 127.0.0.1 "$PORT" "$FLOOD" "$SLOW_INTERVAL" "$(hold "$ramp")"
  fi
fi

# ── 6. per-user rate limit on an expensive endpoint (shipped configuration) ──────────────────
log "rate limit: user 1 hammers $(cat "$RES/paths/expensive.paths") on 10 connections; user 2 asks it once a second"
python3 scripts/load_attack.py probe 127.0.0.1 "$PORT" "$(sed -n 2p "$RES/tokens.txt")" "$(cat "$RES/paths/expensive.paths")" 1 "$DURATION" \
  >"$RES/ratelimit-other.json" &
probe_pid=$!
PIDS+=("$probe_pid")
measure ratelimit-hammer expensive bearer 10 "$DURATION" 0 1
wait "$probe_pid"
server_alive ratelimit
log "  other user: $(cat "$RES/ratelimit-other.json")"
stop_server

# ── 7. report ────────────────────────────────────────────────────────────────────────────────
cat >"$RES/meta.json" <<EOF
{"binary": "$BIN", "build": "$BUILD_KIND", "commit": "$GIT_COMMIT", "wrk": "$WRK_VERSION", "messages": $MESSAGES,
 "connections": $CONNS, "duration_s": $DURATION, "mixed_duration_s": $MIXED_DURATION, "think_ms": $THINK_MS, "cpus": $(nproc),
 "server_nofile": "$NOFILE", "slowloris": $SLOWLORIS, "slow_interval_s": $SLOW_INTERVAL, "huge_mb": $HUGE_MB,
 "slow_bodies": $SLOW_BODIES, "slow_hold_s": $SLOW_HOLD, "slowloris_flood": "${FLOOD:-0}",
 "serve_limits_off": "$(cat "$RES/server-limits-off.args")", "serve_defaults": "$(cat "$RES/server-defaults.args")",
 "clk_tck": $(getconf CLK_TCK), "date": "$(date -u '+%Y-%m-%d %H:%M:%S UTC')", "load_end": "$(loadavg)"}
EOF
python3 scripts/load_report.py "$RES"
if [ "$CRASHES" -gt 0 ]; then
  log "the server died $CRASHES time(s) (see crash-*.json in $RES): exit 1"
  exit 1
fi
