#!/usr/bin/env bash
# A real OpenID Connect provider for the login tests: django-oidc-provider (PyPI, MIT) in the tiny
# Django project scripts/oidc/, SQLite in DIR, served by waitress on loopback, plain http. Code
# flow with PKCE (S256 or plain; required of public clients), ID tokens signed RS256 with a key
# made for the run and published at ISSUER/jwks, carrying preferred_username, name, email and
# groups (scopes profile, email). Login is an HTML form (username, password, #login-submit); no
# consent page for the clients registered here. A test peer only, never bundled.
#
#   scripts/oidc.sh start DIR        → prints the issuer, http://127.0.0.1:PORT/openid, on stdout
#                                      (a fresh database: the clients and users DIR held are gone)
#   scripts/oidc.sh client DIR REDIRECT_URI [--public] [--client-id ID]
#                                    → prints "CLIENT_ID CLIENT_SECRET" (client_secret_basic or
#                                      _post), or "CLIENT_ID" for a public client; ID: recordkeeper
#   scripts/oidc.sh user DIR USERNAME PASSWORD [--groups g1,g2] [--email E] [--name "Full Name"]
#   scripts/oidc.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop|client|user}
dir=$(realpath -m "${2:?data directory}")
shift 2
cd "$(dirname "$0")/.."
VENV="$PWD/.build/oidc-venv"
# requests is for scripts/oidc/selftest.py (PyJWT, which the provider signs with, decodes there).
PACKAGES="Django==5.2.20 django-oidc-provider==0.9.0 waitress==3.0.2 PyJWT==2.15.1 cryptography==51.0.1 requests==2.34.2"
export OIDC_DIR="$dir"
manage() { "$VENV/bin/python" scripts/oidc/manage.py "$@"; }

# Running, and not a zombie: here an orphan's exit is reaped only a second or two later.
alive() { case "$(ps -o stat= -p "$1" 2>/dev/null)" in "" | Z*) return 1 ;; *) return 0 ;; esac; }

stop() {
  local pid
  pid=$(cat "$dir/pid" 2>/dev/null) || return 0
  # A pid file left from before a reboot may name another process by now.
  if grep -q waitress "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
}

need_db() {
  [ -f "$dir/db.sqlite3" ] && return 0
  echo "no provider in $dir (scripts/oidc.sh start $dir makes one)" >&2; exit 1
}

case "$cmd" in
stop) stop; exit 0 ;;
client)
  need_db
  redirect_uri=${1:?redirect URI}; shift
  client_id=recordkeeper; public=()
  while [ $# -gt 0 ]; do
    case "$1" in
    --public) public=(--public); shift ;;
    --client-id) client_id=${2:?client id}; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
  done
  manage addclient "$client_id" "$redirect_uri" "${public[@]}"
  exit 0 ;;
user) need_db; manage adduser "$@"; exit 0 ;;
start) ;;
*) echo "usage: $0 start DIR | client DIR REDIRECT_URI [--public] [--client-id ID] | user DIR USERNAME PASSWORD [--groups G,..] [--email E] [--name N] | stop DIR" >&2; exit 2 ;;
esac

# The venv is installed once and kept; a stamp records which pins it holds. The lock keeps two
# providers started at once from installing over each other.
mkdir -p .build
exec 9>"$VENV.lock"
flock 9
if [ "$(cat "$VENV/.pinned" 2>/dev/null)" != "$PACKAGES" ]; then
  echo "installing django-oidc-provider and Django into $VENV …" >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check $PACKAGES >&2
  echo "$PACKAGES" > "$VENV/.pinned"
fi
flock -u 9; exec 9>&-

stop
mkdir -p "$dir"
rm -f "$dir"/db.sqlite3* "$dir/server.log" "$dir/setup.log" "$dir/issuer"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The issuer is SITE_URL + "/openid" (the path the provider's URLs are mounted at), no trailing slash.
export OIDC_SITE_URL="http://127.0.0.1:$port"
issuer="$OIDC_SITE_URL/openid"
echo "creating the provider's database and RSA signing key in $dir …" >&2
# creatersakey says "Something goes wrong" and exits 0 when it fails: look for its success line.
if ! { manage migrate --noinput -v 0 && manage creatersakey; } >"$dir/setup.log" 2>&1 \
   || ! grep -q "successfully created" "$dir/setup.log"; then
  cat "$dir/setup.log" >&2; exit 1
fi
PYTHONPATH="$PWD/scripts/oidc" DJANGO_SETTINGS_MODULE=idp.settings \
  "$VENV/bin/python" -m waitress --listen="127.0.0.1:$port" --threads=8 idp.wsgi:application \
  </dev/null >"$dir/server.log" 2>&1 &
echo $! > "$dir/pid"
for _ in $(seq 1 600); do
  if curl -fsS -o /dev/null "$issuer/.well-known/openid-configuration" 2>/dev/null; then
    echo "$issuer" > "$dir/issuer"
    echo "$issuer"
    exit 0
  fi
  alive "$(cat "$dir/pid")" || break
  sleep 0.1
done
if alive "$(cat "$dir/pid")"; then why="did not answer at $issuer/.well-known/openid-configuration within 60 s"
else why="exited"; fi
echo "the OpenID provider $why; the end of its log ($dir/server.log):" >&2
tail -30 "$dir/server.log" >&2
stop
exit 1
