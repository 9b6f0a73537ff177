#!/usr/bin/env bash
# Regenerates docs/records-management.md from a real run: every output block in the guide is
# what the current binary prints. The run happens in /tmp/rk-doc2 (the paths the guide shows);
# the prose lives in scripts/docs/records-management/template.md, where `@@ COMMAND` lines are
# replaced by that command's output from the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
swift build --product recordkeeper >&2
rm -rf /tmp/rk-doc2 && mkdir -p /tmp/rk-doc2
cp .build/debug/recordkeeper /tmp/rk-doc2/recordkeeper
cp scripts/docs/records-management/{run.sh,render.py,template.md} /tmp/rk-doc2/
bash /tmp/rk-doc2/run.sh
python3 /tmp/rk-doc2/render.py "$ROOT/docs/records-management.md"
echo "docs/records-management.md regenerated; review the diff (timestamps and digests change every run)" >&2
