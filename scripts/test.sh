#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine of this kind: installs what the tests need,
# builds once (debug, with tests), then runs every test without rebuilding.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_apt+=(libsqlite3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} …" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"; else sudo apt-get update -qq && sudo apt-get install -y -qq "${need_apt[@]}"; fi
fi

# The Library of Congress BagIt validator (PyPI `bagit`) checks every transfer package the tests write.
TOOLS_VENV=.build/tools-venv
if [ ! -x "$TOOLS_VENV/bin/bagit.py" ]; then
  echo "installing the bagit validator into $TOOLS_VENV …" >&2
  python3 -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/python" -m pip install -q --disable-pip-version-check "bagit==1.9.0" >&2
fi
export RECORDKEEPER_BAGIT="$PWD/$TOOLS_VENV/bin/bagit.py"

start=$(date +%s)
swift build --build-tests
echo "build: $(( $(date +%s) - start )) s" >&2
swift test --skip-build "$@"
