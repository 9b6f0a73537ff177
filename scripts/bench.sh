#!/usr/bin/env bash
# Performance benchmark for recordkeeper (release build), with the targets from issue 13:
#   • capture (`ingest --no-wait-index`) ≥ 2× whatstk's parse-only throughput, at 1M and 10M
#   • capture rate at 10M ≥ 80% of the rate at 1M
#   • fully searchable (capture + `index catch-up`) within 2× the capture time
#   • search p99 < 50 ms at 10M, newest-first and relevance order, through the JSON API of a
#     running server (as the issue's baseline); the CLI's figures (a fresh process and a cold
#     page cache per query) are printed beside them
#   • verify ≥ 0.5× single-core `openssl speed -evp sha256` (16 KiB blocks)
#   • peak RSS of a 10M capture < 300 MB
# In the same run it measures the SQLite engine floor (1M bare inserts of comparable rows, see
# scripts/bench_sqlite_floor.py), openssl on every core (`-multi`), and the old-style end-to-end
# `ingest` (waits for the index) for comparison.
# It is a measurement, not a test: missed targets are reported as MISS and the script still
# exits 0. It exits non-zero only when a command fails.
#
# Usage: scripts/bench.sh                       (work dir: ${BENCH_DIR:-/tmp/recordkeeper-bench})
#        BENCH_SIZES="100k 1m 10m" scripts/bench.sh
# Environment: BENCH_SIZES (default "100k 1m"; known: 100k 1m 10m), BENCH_DIR,
#   BENCH_SEARCH_RUNS (timed runs per query and order; default 5, 3 at 10m),
#   BENCH_FLOOR_ROWS (default 1000000), BENCH_SKIP_E2E=1 (skip the old-style ingest),
#   BENCH_POSTGRES=1 (also capture into PostgreSQL 15, durable settings, with 1 and 2 workers;
#   at 10m one worker and no migrate, which would add two more 10M loads, unless BENCH_PG_FULL=1).
# Generated exports and the whatstk venv are reused between runs; archives are fresh every run.
# BENCH_CUSTODY=1 runs the custody benchmark (issue 15: P1 import, P2 scans, P3 reports with
#   BENCH_CUSTODY_P3=1) after the rest, on the same binary; BENCH_CUSTODY_ONLY=1 runs only it. It
#   is scripts/bench_custody.sh (runnable alone; its settings are described there), and writes
#   its figures to $BENCH_DIR/results-custody. BENCH_CUSTODY_SCALE=1 then times the custody reports
#   over a generated history at the OIG's volume (scripts/bench_custody_scale.sh: 50M events,
#   ~20 GB and ~26 min to generate the first time, reused after).
# The load average (1/5/15 min) is recorded at the start and end of every measurement: this is
# a 2-core machine and a concurrent compile skews everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "${BENCH_CUSTODY_ONLY:-0}" = 1 ]; then
  exec scripts/bench_custody.sh
fi

BENCH_DIR=${BENCH_DIR:-/tmp/recordkeeper-bench}
SEED=1
CUSTODIAN=bench@agency.example.gov
read -r -a SIZES <<<"${BENCH_SIZES:-100k 1m}"
declare -A COUNT=([100k]=100000 [1m]=1000000 [10m]=10000000)
declare -A WHATSTK_RUNS=([100k]=2 [1m]=1 [10m]=1)
declare -A SEARCH_RUNS=([100k]=5 [1m]=5 [10m]=3)
FLOOR_ROWS=${BENCH_FLOOR_ROWS:-1000000}
# whatstk (pandas) holds the whole chat several times over: ~1.3 GB per 1M messages.
WHATSTK_MB_PER_M=1400
# Pinned baseline: whatstk and the pandas/numpy it parses with (pip can install these today).
WHATSTK_PIN=0.9.1
PANDAS_PIN=2.3.3
NUMPY_PIN=2.4.6

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
trap 'rc=$?; log "FAILED (exit $rc) at line $LINENO: $BASH_COMMAND"; exit $rc' ERR

for size in "${SIZES[@]}"; do
  [ -n "${COUNT[$size]:-}" ] || { log "unknown size '$size' in BENCH_SIZES (known: ${!COUNT[*]})"; exit 1; }
done

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
TMP=$(mktemp -d "$BENCH_DIR/tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
RES="$BENCH_DIR/results"          # kept after the run: one JSON file per measurement
rm -rf "$RES" && mkdir -p "$RES"

for tool in python3 openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { log "missing required tool: $tool"; exit 1; }
done

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# run_timed NAME STDOUT_FILE CMD... : runs CMD under /usr/bin/time -v and writes
# $RES/NAME.time.json: wall seconds, peak RSS (MB = 10^6 B), user/sys CPU seconds, load start/end.
run_timed() {
  local name=$1 out=$2; shift 2
  local l0 l1
  l0=$(loadavg)
  /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$out"
  l1=$(loadavg)
  python3 - "$TMP/$name.time" "$l0" "$l1" >"$RES/$name.time.json" <<'EOF'
import json, sys
wall = rss_kb = user = sys_s = None
for line in open(sys.argv[1]):
    if "Elapsed (wall clock)" in line:
        secs = 0.0
        for part in line.rsplit(": ", 1)[1].strip().split(":"):
            secs = secs * 60 + float(part)
        wall = secs
    elif "Maximum resident set size" in line:
        rss_kb = int(line.rsplit(":", 1)[1])
    elif "User time (seconds)" in line:
        user = float(line.rsplit(":", 1)[1])
    elif "System time (seconds)" in line:
        sys_s = float(line.rsplit(":", 1)[1])
if wall is None or rss_kb is None:
    sys.exit(f"could not read /usr/bin/time output {sys.argv[1]}")
print(json.dumps({"wall": wall, "rss_mb": rss_kb * 1024 / 1e6, "user": user, "sys": sys_s,   # time -v gives KiB
                  "load_start": sys.argv[2], "load_end": sys.argv[3]}))
EOF
}

# JSON field of a file: jget FILE KEY[.KEY…]
jget() { python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[k]
print(v)' "$1" "$2"; }

# ── 0. build (release only, once) ────────────────────────────────────────────────────────────
# BENCH_SCRATCH names another build folder (e.g. .build-release) so a release build does not
# share .build with the debug build the tests use.
SCRATCH=${BENCH_SCRATCH:-.build}
log "building release binary (swift build -c release --product recordkeeper --scratch-path $SCRATCH)"
swift build -c release --product recordkeeper --scratch-path "$SCRATCH" >&2
BIN="$ROOT/$SCRATCH/release/recordkeeper"
[ -x "$BIN" ] || { log "no binary at $BIN"; exit 1; }
# The commit the binary was built from (taken now: others may commit while the bench runs).
GIT_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && GIT_COMMIT="$GIT_COMMIT (working tree modified)"
# Which libsqlite3 the binary runs on (GRDB links the system library).
RK_SQLITE=$(ldd "$BIN" 2>/dev/null | awk '/libsqlite3/ {print $3}' | head -n1)
RK_SQLITE_VERSION=unknown
[ -n "$RK_SQLITE" ] && RK_SQLITE_VERSION=$(python3 -c 'import ctypes,sys; l=ctypes.CDLL(sys.argv[1]); l.sqlite3_libversion.restype=ctypes.c_char_p; print(l.sqlite3_libversion().decode())' "$RK_SQLITE" 2>/dev/null || echo unknown)

# ── 1. exports (reused when spec, generator sources and file size match) ─────────────────────
gen_hash=$(cat Sources/RecordkeeperTesting/*.swift | sha256sum | cut -c1-16)
declare -A EXPORT
for size in "${SIZES[@]}"; do
  dir="$BENCH_DIR/exports/$size"
  spec="messages=${COUNT[$size]} style=androidTxt seed=$SEED generator=$gen_hash"
  reuse=0
  if [ -f "$dir/.bench-spec" ]; then
    IFS=$'\t' read -r old_spec old_path old_bytes <"$dir/.bench-spec" || true
    if [ "$old_spec" = "$spec" ] && [ -f "$old_path" ] && [ "$(stat -c %s "$old_path")" = "$old_bytes" ]; then
      reuse=1
      EXPORT[$size]=$old_path
    fi
  fi
  if [ $reuse = 1 ]; then
    log "reusing $size export: ${EXPORT[$size]}"
  else
    log "generating $size export (${COUNT[$size]} messages)"
    rm -rf "$dir" && mkdir -p "$dir"
    path=$("$BIN" sample-export --messages "${COUNT[$size]}" --style androidTxt --out "$dir" --seed "$SEED" | tail -n1)
    [ -f "$path" ] || { log "sample-export did not produce a file (got: $path)"; exit 1; }
    printf '%s\t%s\t%s\n' "$spec" "$path" "$(stat -c %s "$path")" >"$dir/.bench-spec"
    EXPORT[$size]=$path
  fi
  echo "{\"size\": \"$size\", \"path\": \"${EXPORT[$size]}\", \"bytes\": $(stat -c %s "${EXPORT[$size]}")}" >"$RES/$size.export.json"
done

# ── 2. whatstk parse-only baseline (pinned versions) ─────────────────────────────────────────
VENV="$BENCH_DIR/venv"
venv_ok() {
  "$VENV/bin/python" - "$WHATSTK_PIN" "$PANDAS_PIN" "$NUMPY_PIN" >/dev/null 2>&1 <<'EOF'
import sys
from importlib.metadata import version
assert [version("whatstk"), version("pandas"), version("numpy")] == sys.argv[1:4]
import whatstk  # noqa: F401
EOF
}
if ! venv_ok; then
  log "creating venv $VENV: whatstk==$WHATSTK_PIN pandas==$PANDAS_PIN numpy==$NUMPY_PIN"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "whatstk==$WHATSTK_PIN" "pandas==$PANDAS_PIN" "numpy==$NUMPY_PIN" >&2
  venv_ok || { log "venv does not have the pinned versions"; exit 1; }
fi
for size in "${SIZES[@]}"; do
  need_mb=$(( COUNT[$size] / 1000000 * WHATSTK_MB_PER_M + 500 ))
  avail_mb=$(( $(awk '/MemAvailable/ {print $2}' /proc/meminfo) / 1024 ))
  if [ "$avail_mb" -lt "$need_mb" ]; then
    log "whatstk on $size SKIPPED: needs ~$need_mb MB, $avail_mb MB available"
    echo "{\"skipped\": \"needs ~$need_mb MB, $avail_mb MB available\"}" >"$RES/$size.whatstk.json"
    continue
  fi
  log "whatstk parse-only on $size (best of ${WHATSTK_RUNS[$size]}; $avail_mb MB available, ~$need_mb MB needed)"
  run_timed "$size.whatstk" "$RES/$size.whatstk.json" \
    "$VENV/bin/python" "$ROOT/scripts/bench_whatstk.py" "${EXPORT[$size]}" "${WHATSTK_RUNS[$size]}"
  log "  whatstk $size: $(jget "$RES/$size.whatstk.json" messages) messages in $(jget "$RES/$size.whatstk.json" best_seconds) s"
done

# ── 3. SQLite engine floor (1M bare inserts, same pragmas as the archive) ────────────────────
log "SQLite floor: $FLOOR_ROWS rows × 3 variants (python sqlite3, executemany, 10k rows/txn, WAL, synchronous=FULL)"
l0=$(loadavg)
python3 "$ROOT/scripts/bench_sqlite_floor.py" "$TMP/floor" "$FLOOR_ROWS" >"$TMP/floor.json"
l1=$(loadavg)
python3 - "$TMP/floor.json" "$l0" "$l1" >"$RES/floor.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["load_start"], d["load_end"] = sys.argv[2], sys.argv[3]
print(json.dumps(d))
EOF

# ── 4. per size: capture, catch-up, end-to-end ingest, search, verify ───────────────────────
# One query per entry; extra CLI arguments follow the query, separated by '|'. Each is run in
# both orders (--sort date: newest first, the default; --sort relevance: BM25).
# The androidTxt sample export is English (port-of-entry operations chatter), so the set uses
# words it actually contains, plus one word that matches nothing.
QUERIES=(
  'lane'                                      # very common word
  'the'                                       # most common word (worst case for ranking)
  'vehicle'                                   # common word
  'turnstiles'                                # rarer word
  'seizure'                                   # rarer word
  'checkpoint'                                # matches nothing
  '"port director"'                           # phrase
  '"evidence locker"'                         # phrase
  'insp*'                                     # prefix
  'sec*'                                      # broad prefix
  'lane AND lunch'                            # AND
  'tecs OR sentri'                            # OR
  'shift NOT change'                          # NOT
  '(queue OR wait) AND min NOT bridge'        # grouping
  'vehicle|--from|2021-03-01|--to|2021-03-31' # date filter
  'lane|--custodian|bench@agency.example.gov' # custodian filter (every match joined to its message)
  'seizure|--participant|Karen'               # participant filter
  'vehicle|--from|2021-03-01|--to|2021-03-02' # narrow range
)
ORDERS=(date relevance)

index_pending() {   # index_pending ARCHIVE → not_yet_searchable
  RECORDKEEPER_DATA_DIR="$1" "$BIN" index status --json >"$TMP/index-status.json"
  jget "$TMP/index-status.json" coverage.not_yet_searchable
}

for size in "${SIZES[@]}"; do
  # 4a. capture only: ingest --no-wait-index into a fresh archive
  data="$BENCH_DIR/data-$size"
  rm -rf "$data"
  RECORDKEEPER_DATA_DIR="$data" "$BIN" init >/dev/null
  log "capture $size (ingest --no-wait-index) into fresh archive $data   load $(loadavg)"
  RECORDKEEPER_DATA_DIR="$data" run_timed "$size.capture" "$TMP/capture-$size.json" \
    "$BIN" ingest "${EXPORT[$size]}" --custodian "$CUSTODIAN" --timezone UTC --json --no-wait-index
  pending_after_capture=$(index_pending "$data")
  # 4b. index catch-up
  log "  captured in $(jget "$RES/$size.capture.time.json" wall) s; $pending_after_capture not yet searchable; index catch-up   load $(loadavg)"
  RECORDKEEPER_DATA_DIR="$data" run_timed "$size.catchup" "$TMP/catchup-$size.txt" "$BIN" index catch-up
  pending_after_catchup=$(index_pending "$data")
  log "  catch-up in $(jget "$RES/$size.catchup.time.json" wall) s: $(head -c 200 "$TMP/catchup-$size.txt")"
  python3 - "$TMP/capture-$size.json" "$TMP/catchup-$size.txt" "$pending_after_capture" "$pending_after_catchup" \
    >"$RES/$size.capture.json" <<'EOF'
import json, re, sys
batches = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
added = sum(b["messages_added"] for b in batches)
inner = sum(b["seconds"] for b in batches)
m = re.match(r"\s*([\d,]+) messages? indexed", open(sys.argv[2]).read())
if added == 0 or not m:
    sys.exit(f"could not read capture/catch-up results (added={added}, catch-up: {open(sys.argv[2]).read()[:200]!r})")
print(json.dumps({"messages": added, "inner_seconds": inner, "indexed": int(m.group(1).replace(",", "")),
                  "pending_after_capture": int(sys.argv[3]), "pending_after_catchup": int(sys.argv[4])}))
EOF
  [ "$pending_after_catchup" = 0 ] || { log "index catch-up left $pending_after_catchup messages unindexed"; exit 1; }

  # 4b'. PostgreSQL (issue 14; BENCH_POSTGRES=1): the same capture into a fresh database, blobs
  # in a local directory (so the figure is the database's), then the index catch-up; and two
  # ingest processes at once (the same export for two custodians: twice the messages).
  if [ "${BENCH_POSTGRES:-0}" = 1 ]; then
    if [ -z "${PG_URL:-}" ]; then
      # Outside $TMP (mode 0700): the cluster runs as Debian's postgres user, who must reach it.
      PGRUN=$(mktemp -d /tmp/rk-bench-pg.XXXXXX) && chmod 755 "$PGRUN"
      PG_URL=$(PG_DURABLE=1 scripts/postgres.sh start "$PGRUN/cluster")
      trap 'scripts/postgres.sh stop "$PGRUN/cluster"; rm -rf "$TMP" "$PGRUN"' EXIT
      PG_VERSION=$(psql "$PG_URL" -Atc 'show server_version')
    fi
    # CPU seconds of the whole server (postmaster, its live children, the children it reaped:
    # backends, autovacuum, checkpointer), so a capture's server side is counted apart from its
    # clients'. Empty when /proc cannot be read.
    pg_server_cpu() {
      local pid_file tick pm t=0
      pid_file=$(ls "$PGRUN"/cluster/data/postmaster.pid 2>/dev/null) || return 0
      pm=$(head -n1 "$pid_file"); tick=$(getconf CLK_TCK)
      read -r -a f </proc/"$pm"/stat || return 0
      t=$((f[13] + f[14] + f[15] + f[16]))
      for c in $(pgrep -P "$pm"); do
        read -r -a g </proc/"$c"/stat 2>/dev/null || continue
        t=$((t + g[13] + g[14]))
      done
      python3 -c "print($t / $tick)"
    }
    pg_workers="1 2"; pg_migrate=1
    if [ "$size" = 10m ] && [ "${BENCH_PG_FULL:-0}" != 1 ]; then pg_workers=1; pg_migrate=0; fi
    for workers in $pg_workers; do
      db="bench_${size}_${workers}"
      psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
      url="${PG_URL%/postgres?*}/$db?sslmode=disable"
      pgdir="$TMP/pg-data-$size-$workers"
      RECORDKEEPER_DATA_DIR="$pgdir" RECORDKEEPER_DATABASE_URL="$url" RECORDKEEPER_BLOB_STORE="$pgdir-blobs" "$BIN" init >/dev/null
      log "capture $size into PostgreSQL with $workers worker(s)   load $(loadavg)"
      l0=$(loadavg); s0=$(pg_server_cpu); t0=$(date +%s.%N)
      pids=()
      for w in $(seq 1 "$workers"); do
        RECORDKEEPER_DATA_DIR="$pgdir-$w" RECORDKEEPER_DATABASE_URL="$url" RECORDKEEPER_BLOB_STORE="$pgdir-blobs" \
          /usr/bin/time -v -o "$TMP/pg-$size-$workers-$w.time" "$BIN" ingest "${EXPORT[$size]}" --custodian "$([ "$w" = 1 ] && echo "$CUSTODIAN" || echo "worker$w@agency.example.gov")" \
          --timezone UTC --json --no-wait-index >"$TMP/pg-$size-$workers-$w.json" &
        pids+=($!)
      done
      for pid in "${pids[@]}"; do wait "$pid"; done
      t1=$(date +%s.%N); l1=$(loadavg); sleep 1; s1=$(pg_server_cpu)
      client_cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {print t}' "$TMP"/pg-"$size"-"$workers"-*.time)
      RECORDKEEPER_DATA_DIR="$pgdir" RECORDKEEPER_DATABASE_URL="$url" RECORDKEEPER_BLOB_STORE="$pgdir-blobs" \
        run_timed "$size.pg$workers.catchup" "$TMP/pg-catchup-$size-$workers.txt" "$BIN" index catch-up
      bytes=$(psql "$url" -Atc "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'i', 'm', 't')")
      python3 - "$t0" "$t1" "$l0" "$l1" "$bytes" "${PG_VERSION:-?}" "$client_cpu" "$s0" "$s1" "$TMP"/pg-"$size"-"$workers"-*.json >"$RES/$size.pg$workers.json" <<'EOF2'
import json, sys
t0, t1, l0, l1, size_bytes, version = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5] or 0), sys.argv[6]
client_cpu = float(sys.argv[7] or "nan")
server_cpu = float(sys.argv[9]) - float(sys.argv[8]) if sys.argv[8] and sys.argv[9] else float("nan")
added = sum(json.loads(l)["messages_added"] for f in sys.argv[10:] for l in open(f) if l.strip())
print(json.dumps({"messages": added, "wall": t1 - t0, "load_start": l0, "load_end": l1, "db_bytes": size_bytes, "server": version,
                  "client_cpu": client_cpu, "server_cpu": server_cpu}))
EOF2
      log "  $workers worker(s): $(jget "$RES/$size.pg$workers.json" messages) messages in $(jget "$RES/$size.pg$workers.json" wall) s; catch-up $(jget "$RES/$size.pg$workers.catchup.time.json" wall) s"
    done

    # Search latency on PostgreSQL through the API of a warm server: the same queries and orders
    # as on SQLite, on the one-worker database (its index caught up above).
    pg_runs=${BENCH_SEARCH_RUNS:-${SEARCH_RUNS[$size]}}
    printf '%s\n' "${QUERIES[@]}" >"$TMP/pg-queries-$size.txt"
    log "search $size on PostgreSQL (API): ${#QUERIES[@]} queries × ${#ORDERS[@]} orders × (1 warm-up + $pg_runs timed)   load $(loadavg)"
    l0=$(loadavg)
    RECORDKEEPER_DATABASE_URL="${PG_URL%/postgres?*}/bench_${size}_1?sslmode=disable" RECORDKEEPER_BLOB_STORE="$TMP/pg-data-$size-1-blobs" \
      python3 "$ROOT/scripts/bench_api_search.py" "$BIN" "$TMP/pg-data-$size-1" "$pg_runs" "$TMP/pg-queries-$size.txt" "${ORDERS[@]}" \
      >"$TMP/pg-search-api-$size.json"
    l1=$(loadavg)
    python3 - "$TMP/pg-search-api-$size.json" "$l0" "$l1" >"$RES/$size.pg.search_api.json" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1])); d["load_start"], d["load_end"] = sys.argv[2], sys.argv[3]
print(json.dumps(d))
EOF2
    log "  search $size on PostgreSQL (API): newest-first p99 $(jget "$RES/$size.pg.search_api.json" orders.date.p99) ms, relevance p99 $(jget "$RES/$size.pg.search_api.json" orders.relevance.p99) ms"
    # Right after a bulk catch-up autovacuum is still at work on the newest partitions (their
    # GIN pending lists, visibility maps): the same searches again after `VACUUM (ANALYZE)`, the
    # step docs/operations/postgresql.md asks for after a bulk load, timed.
    run_timed "$size.pg.vacuum" /dev/null psql "${PG_URL%/postgres?*}/bench_${size}_1?sslmode=disable" -qc "VACUUM (ANALYZE)"
    vacuum_s=$(jget "$RES/$size.pg.vacuum.time.json" wall)
    RECORDKEEPER_DATABASE_URL="${PG_URL%/postgres?*}/bench_${size}_1?sslmode=disable" RECORDKEEPER_BLOB_STORE="$TMP/pg-data-$size-1-blobs" \
      python3 "$ROOT/scripts/bench_api_search.py" "$BIN" "$TMP/pg-data-$size-1" "$pg_runs" "$TMP/pg-queries-$size.txt" "${ORDERS[@]}" \
      >"$TMP/pg-search-api-vacuumed-$size.json"
    python3 - "$TMP/pg-search-api-vacuumed-$size.json" "$vacuum_s" >"$RES/$size.pg.search_api_vacuumed.json" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1])); d["vacuum_seconds"] = float(sys.argv[2])
print(json.dumps(d))
EOF2
    log "  after VACUUM (ANALYZE) ($vacuum_s s): newest-first p99 $(jget "$RES/$size.pg.search_api_vacuumed.json" orders.date.p99) ms, relevance p99 $(jget "$RES/$size.pg.search_api_vacuumed.json" orders.relevance.p99) ms"

    # `migrate` of the SQLite archive captured above (a copy: migrate writes its audit entries to
    # the source) into a fresh database, blobs into a local directory: verify on both sides,
    # copy, index, counts and chain compared.
    if [ "$pg_migrate" = 1 ]; then
    mig="$TMP/migrate-src-$size"
    rm -rf "$mig" && cp -a "$data" "$mig"
    db="bench_${size}_migrate"
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    log "migrate $size (SQLite → PostgreSQL)   load $(loadavg)"
    RECORDKEEPER_DATA_DIR="$mig" run_timed "$size.pg.migrate" "$TMP/migrate-$size.json" \
      "$BIN" migrate --from "$mig" --to "${PG_URL%/postgres?*}/$db?sslmode=disable" --blob-store "$TMP/pg-migrate-blobs-$size" --json
    cp "$TMP/migrate-$size.json" "$RES/$size.pg.migrate.json"
    log "  migrate $size in $(jget "$RES/$size.pg.migrate.time.json" wall) s"
    rm -rf "$mig" "$TMP/pg-migrate-blobs-$size"
    fi
  fi

  # 4c. old-style end to end: ingest (waits for the index) into another fresh archive
  if [ "${BENCH_SKIP_E2E:-0}" != 1 ]; then
    e2e="$BENCH_DIR/data-$size-e2e"
    rm -rf "$e2e"
    RECORDKEEPER_DATA_DIR="$e2e" "$BIN" init >/dev/null
    log "end-to-end $size (ingest, waits for the index) into fresh archive $e2e   load $(loadavg)"
    RECORDKEEPER_DATA_DIR="$e2e" run_timed "$size.e2e" "$TMP/e2e-$size.json" \
      "$BIN" ingest "${EXPORT[$size]}" --custodian "$CUSTODIAN" --timezone UTC --json
    e2e_pending=$(index_pending "$e2e")
    python3 - "$TMP/e2e-$size.json" "$e2e_pending" >"$RES/$size.e2e.json" <<'EOF'
import json, sys
batches = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps({"messages": sum(b["messages_added"] for b in batches),
                  "inner_seconds": sum(b["seconds"] for b in batches), "pending_after": int(sys.argv[2])}))
EOF
    log "  end-to-end in $(jget "$RES/$size.e2e.time.json" wall) s ($e2e_pending left unindexed)"
    rm -rf "$e2e"   # only the capture + catch-up archive is searched and verified
  fi

  # 4d. search latency, both orders, on the capture + catch-up archive
  runs=${BENCH_SEARCH_RUNS:-${SEARCH_RUNS[$size]}}
  sdir="$TMP/search-$size"
  mkdir -p "$sdir"
  l0=$(loadavg)
  log "search $size: ${#QUERIES[@]} queries × ${#ORDERS[@]} orders × (1 warm-up + $runs timed)   load $l0"
  for order in "${ORDERS[@]}"; do
    for i in "${!QUERIES[@]}"; do
      IFS='|' read -r -a args <<<"${QUERIES[$i]}"
      printf '%s\n' "${QUERIES[$i]//|/ }" >"$sdir/q$i.label"
      for run in $(seq 0 "$runs"); do
        t0=$(date +%s%N)
        RECORDKEEPER_DATA_DIR="$data" "$BIN" search "${args[@]}" --sort "$order" --json --limit 20 >"$sdir/$order-q$i-r$run.json"
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000)) >"$sdir/$order-q$i-r$run.wall_us"
      done
    done
  done
  l1=$(loadavg)
  python3 - "$sdir" "${#QUERIES[@]}" "$runs" "$l0" "$l1" "${ORDERS[@]}" >"$RES/$size.search.json" <<'EOF'
import json, math, sys
d, nq, runs, l0, l1, orders = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
def nearest_rank(xs, p):
    xs = sorted(xs); return xs[max(1, math.ceil(p / 100 * len(xs))) - 1]
out = {"runs": runs, "load_start": l0, "load_end": l1, "orders": {}}
for order in orders:
    samples, walls, rows = [], [], []
    for i in range(nq):
        label = open(f"{d}/q{i}.label").read().strip()
        ms = []
        for r in range(1, runs + 1):            # run 0 is the warm-up
            j = json.load(open(f"{d}/{order}-q{i}-r{r}.json"))
            ms.append(float(j["elapsed_ms"])); total = j["total"]
            cov = j.get("coverage") or {}
            if cov.get("not_yet_searchable", 0):
                sys.exit(f"search {label!r} ({order}) saw {cov['not_yet_searchable']} messages not yet searchable")
            walls.append(int(open(f"{d}/{order}-q{i}-r{r}.wall_us").read()) / 1000)
        samples += ms
        rows.append({"query": label, "total": total, "p50": nearest_rank(ms, 50), "max": max(ms)})
    worst = max(rows, key=lambda r: r["max"])
    out["orders"][order] = {"p50": nearest_rank(samples, 50), "p99": nearest_rank(samples, 99), "max": max(samples),
                            "n": len(samples), "wall_p50": nearest_rank(walls, 50), "worst": worst, "rows": rows}
print(json.dumps(out))
EOF
  log "  search $size (CLI): newest-first p99 $(jget "$RES/$size.search.json" orders.date.p99) ms, relevance p99 $(jget "$RES/$size.search.json" orders.relevance.p99) ms"
  # The same queries through the JSON API of a running server (the issue's baseline was taken
  # this way: a warm page cache, as records staff meet it).
  printf '%s\n' "${QUERIES[@]}" >"$sdir/queries.txt"
  l0=$(loadavg)
  python3 "$ROOT/scripts/bench_api_search.py" "$BIN" "$data" "$runs" "$sdir/queries.txt" "${ORDERS[@]}" >"$TMP/search-api-$size.json"
  l1=$(loadavg)
  python3 - "$TMP/search-api-$size.json" "$l0" "$l1" >"$RES/$size.search_api.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["load_start"], d["load_end"] = sys.argv[2], sys.argv[3]
print(json.dumps(d))
EOF
  log "  search $size (API): newest-first p99 $(jget "$RES/$size.search_api.json" orders.date.p99) ms, relevance p99 $(jget "$RES/$size.search_api.json" orders.relevance.p99) ms"

  # 4e. verify
  log "verify $size   load $(loadavg)"
  set +e
  l0=$(loadavg)
  RECORDKEEPER_DATA_DIR="$data" "$BIN" verify --json >"$TMP/verify-$size.json"
  vrc=$?
  l1=$(loadavg)
  set -e
  if [ $vrc -ne 0 ]; then
    log "verify failed (exit $vrc):"; cat "$TMP/verify-$size.json" >&2; exit 1
  fi
  python3 - "$TMP/verify-$size.json" "$l0" "$l1" >"$RES/$size.verify.json" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
print(json.dumps({k: v[k] for k in ("seconds", "bytes_hashed", "blob_bytes", "messages_checked", "ok")}
                 | {"load_start": sys.argv[2], "load_end": sys.argv[3]}))
EOF
  log "  verify $size: $(jget "$RES/$size.verify.json" seconds) s, ok=$(jget "$RES/$size.verify.json" ok)"
  # The floor under verify: reading every hashed field once, in SQLite's C, on one core.
  python3 "$ROOT/scripts/bench_verify_floor.py" "$data/archive.sqlite" >"$RES/$size.verify_floor.json"
  log "  verify floor $size (read every hashed column once, one core): $(jget "$RES/$size.verify_floor.json" seconds) s"
done
# Keep only the largest archive (the smaller ones are rebuilt every run anyway).
for size in "${SIZES[@]}"; do [ "$size" = "${SIZES[-1]}" ] || rm -rf "$BENCH_DIR/data-$size"; done

# ── 5. openssl SHA-256: one core (pinned), and one process per core ──────────────────────────
NCPU=$(nproc)
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)
parse_openssl() {   # parse_openssl FILE → MB/s at 16384-byte blocks (the last sha256 line)
  python3 - "$1" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
sizes = None
for line in lines:
    if line.startswith("type") and "bytes" in line:
        sizes = [int(t) for t in line.split()[1:] if t.isdigit()]
    elif "+H:" in line and sizes is None:          # -multi: "Got: +H:16:64:…:16384 from 0"
        sizes = [int(t) for t in line.split("+H:")[1].split()[0].split(":")]
rows = [l for l in lines if l.lower().startswith("sha256") and l.rstrip().endswith("k")]
if not sizes or 16384 not in sizes or not rows:
    sys.exit("could not parse openssl speed output")
vals = [v for v in rows[-1].split() if v.endswith("k")]
print(float(vals[sizes.index(16384)][:-1]) * 1000 / 1e6)   # 'k' = 1000 bytes/s → MB/s
EOF
}
l0=$(loadavg)
log "openssl speed -evp sha256 -seconds 3 ${PIN:+(pinned: ${PIN[*]})}   load $l0"
"${PIN[@]}" openssl speed -evp sha256 -seconds 3 >"$TMP/openssl.txt" 2>/dev/null
SSL1=$(parse_openssl "$TMP/openssl.txt")
log "openssl speed -multi $NCPU -evp sha256 -seconds 3"
openssl speed -multi "$NCPU" -evp sha256 -seconds 3 >"$TMP/openssl-multi.txt" 2>/dev/null
SSLN=$(parse_openssl "$TMP/openssl-multi.txt")
l1=$(loadavg)
echo "{\"single_mbs\": $SSL1, \"multi_mbs\": $SSLN, \"multi_procs\": $NCPU, \"pin\": \"${PIN[*]:-none}\", \"load_start\": \"$l0\", \"load_end\": \"$l1\"}" >"$RES/openssl.json"

# ── 6. report ────────────────────────────────────────────────────────────────────────────────
VERSIONS=$("$VENV/bin/python" -c 'from importlib.metadata import version as v; import sys
print("whatstk " + v("whatstk") + ", pandas " + v("pandas") + ", numpy " + v("numpy") + " (python " + sys.version.split()[0] + ")")')
python3 - "$RES/meta.json" <<EOF
import json, sys
json.dump({"commit": "$GIT_COMMIT", "sizes": "${SIZES[*]}", "cpus": $NCPU,
           "model": """$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)""",
           "date": "$(date -u '+%Y-%m-%d %H:%M:%S UTC')", "load_end": "$(loadavg)",
           "baseline_versions": "$VERSIONS", "openssl_version": "$(openssl version | head -n1)",
           "rk_sqlite": "$RK_SQLITE_VERSION ($RK_SQLITE)"}, open(sys.argv[1], "w"))
EOF
python3 "$ROOT/scripts/bench_report.py" "$RES"

# ── 7. custody (issue 15; BENCH_CUSTODY=1) ───────────────────────────────────────────────────
if [ "${BENCH_CUSTODY:-0}" = 1 ]; then
  BENCH_DIR="$BENCH_DIR" BENCH_BIN="$BIN" scripts/bench_custody.sh
fi
if [ "${BENCH_CUSTODY_SCALE:-0}" = 1 ]; then
  BENCH_DIR="$BENCH_DIR" BENCH_BIN="$BIN" scripts/bench_custody_scale.sh
fi
