# Shared by scripts/bench_custody.sh and scripts/bench_custody_scale.sh (sourced, not run):
# the binary under test, and a `serve` started and stopped as a process group. The caller
# defines log, loadavg, ROOT and TMP, and sets `trap 'stop_server; …' EXIT`.

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 -- "-$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    SERVER_PID=
  fi
}

# Sets BIN (BENCH_BIN, else a release build in BENCH_SCRATCH, default .build) and GIT_COMMIT.
bench_binary() {
  if [ -n "${BENCH_BIN:-}" ]; then
    BIN=$(cd "$(dirname "$BENCH_BIN")" && pwd)/$(basename "$BENCH_BIN")
  else
    local scratch=${BENCH_SCRATCH:-.build}
    log "building release binary (swift build -c release --product recordkeeper --scratch-path $scratch)"
    swift build -c release --product recordkeeper --scratch-path "$scratch" >&2
    BIN="$ROOT/$scratch/release/recordkeeper"
  fi
  [ -x "$BIN" ] || { log "no binary at $BIN"; exit 1; }
  GIT_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && GIT_COMMIT="$GIT_COMMIT (working tree modified)"
  log "binary $BIN ($(stat -c %y "$BIN" | cut -d. -f1)), commit $GIT_COMMIT, load $(loadavg)"
}

rk() { "$BIN" "$@"; }

# Starts `serve` on archive $1 (a program to run it through, such as a faketime wrapper, in
# $SERVE_PREFIX), log to $2; sets URL and SERVER_PID.
start_server() {
  local data=$1 logf=$2
  rm -f "$TMP/serve.out"
  # In a session of its own (setsid execs: the pid is the group's), stopped with its group.
  setsid ${SERVE_PREFIX:-} "$BIN" serve --data-dir "$data" --port 0 >"$TMP/serve.out" 2>>"$logf" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/serve.out" 2>/dev/null | head -n1 || true)
    [ -n "$URL" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited: $(tail -5 "$logf")"; exit 1; }
    sleep 0.1
  done
  log "the server did not print its URL in 60 s"; exit 1
}
