#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine of this kind: installs what the tests need,
# builds once (debug, with tests), then runs every test without rebuilding.
set -euo pipefail
cd "$(dirname "$0")/.."

# Browser tests drive Debian's Chromium through Selenium. Set RECORDKEEPER_BROWSER=0 to skip them
# (never under CI=true: there a missing browser fails the run).
BROWSER=${RECORDKEEPER_BROWSER:-1}
if [ "${CI:-}" = "true" ]; then BROWSER=1; fi

need_apt=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_apt+=(libsqlite3-dev)
if [ "$BROWSER" = 1 ]; then
  dpkg -s chromium >/dev/null 2>&1 || need_apt+=(chromium)
  dpkg -s chromium-driver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} …" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null; }; then
    echo "could not install ${need_apt[*]}" >&2
    [ "${CI:-}" = "true" ] && exit 1
  fi
fi

# The Library of Congress BagIt validator (PyPI `bagit`) checks every transfer package the tests write.
TOOLS_VENV=.build/tools-venv
# selenium drives Chromium; axe-selenium-python carries axe-core, which checks WCAG 2 AA / Section 508 rules.
# openapi-spec-validator checks docs/openapi.yaml is a valid OpenAPI 3 document (a Swift test
# checks that it lists exactly the server's /api routes).
# aiosmtpd is the real SMTP server the reminder test sends to.
if [ ! -x "$TOOLS_VENV/bin/bagit.py" ] || ! "$TOOLS_VENV/bin/python" -c "import selenium, axe_selenium_python, openapi_spec_validator, aiosmtpd" 2>/dev/null; then
  echo "installing bagit, selenium, axe-core, openapi-spec-validator and aiosmtpd into $TOOLS_VENV …" >&2
  [ -x "$TOOLS_VENV/bin/python" ] || python3 -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/python" -m pip install -q --disable-pip-version-check "bagit==1.9.0" "selenium==4.51.0" "axe-selenium-python==2.1.6" \
    "openapi-spec-validator==0.7.1" "aiosmtpd==1.4.6" >&2
fi
export RECORDKEEPER_SMTP_PYTHON="$PWD/$TOOLS_VENV/bin/python"
"$TOOLS_VENV/bin/python" -m openapi_spec_validator docs/openapi.yaml
export RECORDKEEPER_BAGIT="$PWD/$TOOLS_VENV/bin/bagit.py"

start=$(date +%s)
swift build --build-tests
echo "build: $(( $(date +%s) - start )) s" >&2

# Every daemon started below is stopped when this script ends, however it ends.
cleanups=()
cleanup() { for c in "${cleanups[@]}"; do eval "$c" || true; done; }
trap cleanup EXIT

# The PostgreSQL backend's conformance suites run against a real PostgreSQL 15 (Debian's
# package): one throwaway cluster for the run, a database per test. RECORDKEEPER_POSTGRES=0 skips
# them (never under CI).
POSTGRES=${RECORDKEEPER_POSTGRES:-1}
if [ "${CI:-}" = "true" ]; then POSTGRES=1; fi
if [ "$POSTGRES" = 1 ]; then
  PGRUN="$PWD/.build/postgres-run"
  start=$(date +%s)
  if pg_url=$(scripts/postgres.sh start "$PGRUN"); then
    cleanups+=("scripts/postgres.sh stop '$PGRUN'")
    echo "postgresql: 127.0.0.1 ($(( $(date +%s) - start )) s)" >&2
    export RECORDKEEPER_TEST_POSTGRES_URL="$pg_url"
  elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL did not start" >&2; exit 1
  else
    echo "PostgreSQL did not start: the PostgreSQL backend's tests are skipped (CI=true makes this a failure)" >&2
  fi
fi

# The object-storage backend is tested against a real S3 server with Object Lock (SeaweedFS from
# PyPI, loopback, keys made up for the run). RECORDKEEPER_S3=0 skips it (never under CI).
S3=${RECORDKEEPER_S3:-1}
if [ "${CI:-}" = "true" ]; then S3=1; fi
if [ "$S3" = 1 ]; then
  S3RUN="$PWD/.build/s3-run"
  start=$(date +%s)
  if s3_conf=$(scripts/s3.sh start "$S3RUN"); then
    cleanups+=("scripts/s3.sh stop '$S3RUN'")
    echo "s3 (SeaweedFS): ${s3_conf%% *} ($(( $(date +%s) - start )) s)" >&2
    export RECORDKEEPER_TEST_S3="$s3_conf"
  elif [ "${CI:-}" = "true" ]; then
    echo "the S3 server did not start" >&2; exit 1
  else
    echo "the S3 server did not start: the object-storage tests are skipped (CI=true makes this a failure)" >&2
  fi
fi

# Live Matrix capture is tested against a real Synapse (PyPI matrix-synapse, SQLite, loopback),
# with a fresh Application Service registration. RECORDKEEPER_SYNAPSE=0 skips it (never under CI).
SYNAPSE=${RECORDKEEPER_SYNAPSE:-1}
if [ "${CI:-}" = "true" ]; then SYNAPSE=1; fi
if [ "$SYNAPSE" = 1 ]; then
  SYN="$PWD/.build/synapse-run"
  scripts/synapse.sh stop "$SYN/hs" 2>/dev/null || true
  rm -rf "$SYN" && mkdir -p "$SYN"
  as_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  .build/debug/recordkeeper capture matrix-registration --url "http://127.0.0.1:$as_port" -o "$SYN/registration.yaml" >/dev/null
  start=$(date +%s)
  if hs_url=$(scripts/synapse.sh start "$SYN/hs" "$SYN/registration.yaml"); then
    cleanups+=("scripts/synapse.sh stop '$SYN/hs'")
    echo "synapse: $hs_url ($(( $(date +%s) - start )) s)" >&2
    export RECORDKEEPER_SYNAPSE_URL="$hs_url" RECORDKEEPER_SYNAPSE_REGISTRATION="$SYN/registration.yaml" RECORDKEEPER_SYNAPSE_DIR="$SYN/hs"
  elif [ "${CI:-}" = "true" ]; then
    echo "Synapse did not start" >&2; exit 1
  else
    echo "Synapse did not start: the live Matrix capture test is skipped (CI=true makes this a failure)" >&2
  fi
fi
swift test --skip-build "$@"

# Every reader of untrusted input under libFuzzer + AddressSanitizer for a short time each
# (issue 17; scripts/fuzz.sh runs longer). RECORDKEEPER_FUZZ=0 skips it (never under CI).
FUZZ=${RECORDKEEPER_FUZZ:-1}
if [ "${CI:-}" = "true" ]; then FUZZ=1; fi
if [ $# -eq 0 ] && [ "$FUZZ" = 1 ]; then
  scripts/fuzz.sh all "${RECORDKEEPER_FUZZ_SECONDS:-10}"
fi

# Kill -9 of real child processes at random offsets and exact commit points, and a real full disk
# (issue 17; scripts/crash_matrix.py --thorough tries more offsets). RECORDKEEPER_CRASH=0 skips it
# (never under CI).
CRASH=${RECORDKEEPER_CRASH:-1}
if [ "${CI:-}" = "true" ]; then CRASH=1; fi
if [ $# -eq 0 ] && [ "$CRASH" = 1 ]; then
  python3 scripts/crash_matrix.py --bin .build/debug/recordkeeper
fi

# With a filter (arguments), only the Swift tests asked for run.
# browser_check NAME SCRIPT: runs a Chromium test script; its exit 2 (no Chromium) is a skip,
# except under CI.
browser_check() {
  set +e
  "$TOOLS_VENV/bin/python" "$2" --binary .build/debug/recordkeeper --out "$SHOTS"
  local status=$?
  set -e
  if [ $status -eq 2 ] && [ "${CI:-}" != "true" ]; then
    echo "$1 skipped: no Chromium (CI=true makes this a failure)" >&2
  elif [ $status -ne 0 ]; then
    exit $status
  fi
}
if [ $# -eq 0 ] && [ "$BROWSER" = 1 ]; then
  SHOTS=.build/test-artifacts/screenshots
  browser_check "browser tests" scripts/browser_test.py
  # Single sign-on in Chromium against a real OpenID Connect provider (scripts/oidc.sh).
  browser_check "single sign-on test" scripts/sso_test.py
  echo "screenshots: $SHOTS" >&2
  # AT9 of CUSTODY.md §6: the scan station at scanner speed, typed, a repeat, a 60 s network cut.
  browser_check "scan station test" scripts/scan_station_test.py
fi
