#!/usr/bin/env bash
# What sealing blobs at rest costs (issue 16, decision 0009), measured, not asserted.
#
# One export of large attachments (a WhatsApp Android .txt naming N files of M MB of random
# bytes, written here) is captured and verified by a release binary; with BENCH_SEAL_BASELINE
# pointing at a binary that stores blobs in the clear (a build from before sealing, e.g. ca28ff2)
# the two alternate on the same input, two rounds, two verifies per archive. In the same run:
# single-core `openssl speed` for SHA-256 and AES-256-GCM, the hardware floors. It prints wall,
# user and system time, blob MB/s per CPU-second, and the ratios. The load average is printed
# beside each figure: the machine may be shared.
#
# Usage: scripts/bench_sealing.sh [BINARY]        (default .build/release/recordkeeper)
# Environment: BENCH_SEAL_BASELINE (clear-blob binary; optional), BENCH_SEAL_FILES (20),
#   BENCH_SEAL_MB (50), BENCH_DIR (/tmp/recordkeeper-bench).
set -euo pipefail
BIN=${1:-.build/release/recordkeeper}
BASE=${BENCH_SEAL_BASELINE:-}
FILES=${BENCH_SEAL_FILES:-20}
MB=${BENCH_SEAL_MB:-50}
DIR=${BENCH_DIR:-/tmp/recordkeeper-bench}/sealing
mkdir -p "$DIR"
EXP="$DIR/export-$FILES-$MB/WhatsApp Chat with Blob Bench.txt"
if [ ! -f "$EXP" ]; then
  mkdir -p "$(dirname "$EXP")"
  : > "$EXP"
  for i in $(seq 1 "$FILES"); do
    name=$(printf 'DOC-20201103-WA%04d.bin' "$i")
    head -c $((MB * 1048576)) /dev/urandom > "$(dirname "$EXP")/$name"
    printf '03/11/2020, 09:%02d - Jane Doe: %s (file attached)\n' $((i % 60)) "$name" >> "$EXP"
  done
fi
la() { cut -d' ' -f1-3 /proc/loadavg; }
elapsed() { awk -F': ' '/Elapsed/{n=split($2,a,":"); w=(n==3)?a[1]*3600+a[2]*60+a[3]:a[1]*60+a[2]} /User time/{u=$2} /System time/{s=$2}
  END{printf "%.2f %.2f %.2f\n", w, u, s}' "$1"; }
floor() {
  local sha gcm
  sha=$(openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk 'tolower($1) ~ /^sha256/{print $NF}')
  gcm=$(openssl speed -evp aes-256-gcm -bytes 1048576 -seconds 3 2>/dev/null | awk 'tolower($1) ~ /^aes-256-gcm/{print $NF}')
  echo "openssl, one core, 1 MiB blocks: sha256 ${sha} kB/s, aes-256-gcm ${gcm} kB/s (load $(la))"
}
echo "sealing benchmark: $FILES files of $MB MB; binary $BIN${BASE:+; baseline $BASE}"
floor
labels="sealed"; [ -n "$BASE" ] && labels="clear sealed"
for round in 1 2; do
  order=$labels; [ "$round" = 2 ] && [ -n "$BASE" ] && order="sealed clear"
  for label in $order; do
    bin=$BIN; [ "$label" = clear ] && bin=$BASE
    D="$DIR/archive-$label"; rm -rf "$D"
    "$bin" init --data-dir "$D" > /dev/null
    l=$(la)
    /usr/bin/time -v -o "$DIR/ingest.time" "$bin" ingest "$EXP" --data-dir "$D" --custodian bench@agency.example.gov --timezone UTC > /dev/null 2>&1
    read -r w u s < <(elapsed "$DIR/ingest.time")
    echo "round $round $label ingest: wall ${w}s user ${u}s sys ${s}s (load $l)"
    for v in 1 2; do
      l=$(la)
      /usr/bin/time -v -o "$DIR/verify.time" "$bin" verify --data-dir "$D" --json > "$DIR/verify.json" 2> /dev/null
      read -r w u s < <(elapsed "$DIR/verify.time")
      bytes=$(grep -o '"blob_bytes" *: *[0-9]*' "$DIR/verify.json" | grep -o '[0-9]*$')
      awk -v b="$bytes" -v w="$w" -v u="$u" -v s="$s" -v r="$round" -v lab="$label" -v v="$v" -v l="$l" 'BEGIN{
        printf "round %s %s verify#%s: %.0f MB in wall %.2fs user %.2fs sys %.2fs: %.0f MB/s wall, %.0f MB per CPU-second (load %s)\n",
          r, lab, v, b/1e6, w, u, s, b/1e6/w, b/1e6/(u+s), l }'
    done
    rm -rf "$D"
  done
done
floor
