#!/usr/bin/env bash
# A real Matrix homeserver for the live-capture tests: Synapse from PyPI, SQLite, loopback only,
# with Recordkeeper's Application Service registered. Synapse (AGPL-3.0) is a test peer here,
# never bundled.
#
#   scripts/synapse.sh start DIR REGISTRATION.yaml   → prints the homeserver URL on stdout
#   scripts/synapse.sh stop DIR
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$PWD/.build/synapse-venv"
VERSION=1.163.2
cmd=${1:?start|stop}
dir=${2:?data directory}

stop() {
  local pid
  pid=$(cat "$dir/homeserver.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  rm -f "$dir/homeserver.pid"
}

case "$cmd" in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: $0 start DIR REGISTRATION | stop DIR" >&2; exit 2 ;;
esac

registration=$(realpath "${3:?registration file}")
if ! "$VENV/bin/python" -c "import synapse" 2>/dev/null || [ "$("$VENV/bin/python" -c 'import synapse; print(synapse.__version__.split()[0])')" != "$VERSION" ]; then
  echo "installing matrix-synapse $VERSION into $VENV (about 2 min) …" >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "matrix-synapse==$VERSION" >&2
fi

mkdir -p "$dir"
dir=$(realpath "$dir")
stop
# A restart keeps the port (tests restart the homeserver under a running capture).
if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$port" > "$dir/port"
fi
if [ ! -f "$dir/homeserver.yaml" ]; then
  (cd "$dir" && "$VENV/bin/python" -m synapse.app.homeserver --server-name localhost --config-path homeserver.yaml \
    --data-directory "$dir" --generate-config --report-stats=no >/dev/null)
fi
# The generated config, made loopback-only, offline and unthrottled, with the registration.
"$VENV/bin/python" - "$dir/homeserver.yaml" "$port" "$registration" <<'EOF'
import sys, yaml
path, port, registration = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = yaml.safe_load(open(path))
c["listeners"] = [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False, "x_forwarded": False,
                   "resources": [{"names": ["client"], "compress": False}]}]
c["trusted_key_servers"] = []
c["suppress_key_server_warning"] = True
c["presence"] = {"enabled": False}
c["enable_registration"] = True
c["enable_registration_without_verification"] = True
c["app_service_config_files"] = [registration]
for k in ("rc_message", "rc_registration", "rc_login", "rc_joins", "rc_invites", "rc_admin_redaction"):
    c[k] = {"per_second": 1000, "burst_count": 1000} if k not in ("rc_login", "rc_joins", "rc_invites") else \
        {"address": {"per_second": 1000, "burst_count": 1000}, "account": {"per_second": 1000, "burst_count": 1000},
         "failed_attempts": {"per_second": 1000, "burst_count": 1000}} if k == "rc_login" else \
        {"local": {"per_second": 1000, "burst_count": 1000}, "remote": {"per_second": 1000, "burst_count": 1000}} if k == "rc_joins" else \
        {"per_room": {"per_second": 1000, "burst_count": 1000}, "per_user": {"per_second": 1000, "burst_count": 1000},
         "per_issuer": {"per_second": 1000, "burst_count": 1000}}
yaml.safe_dump(c, open(path, "w"))
EOF
(cd "$dir" && "$VENV/bin/python" -m synapse.app.homeserver -c homeserver.yaml --daemonize >/dev/null 2>"$dir/start.log") || {
  cat "$dir/start.log" "$dir"/*.log 2>/dev/null | tail -30 >&2; exit 1; }
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$port/_matrix/client/versions" >/dev/null 2>&1; then
    echo "http://127.0.0.1:$port"
    exit 0
  fi
  sleep 0.2
done
echo "Synapse did not answer on port $port within 30 s; see $dir/homeserver.log" >&2
tail -30 "$dir/homeserver.log" >&2 || true
exit 1
