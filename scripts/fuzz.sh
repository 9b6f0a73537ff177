#!/usr/bin/env bash
# Fuzzes every reader of untrusted input with libFuzzer (issue 17).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      default: all targets, 60 s each
#
# Builds the recordkeeper-fuzz product with the Swift toolchain's libFuzzer and AddressSanitizer
# (-sanitize=fuzzer,address) in .build-fuzz, seeds each target from the project's own fixtures
# and generators (the corpus grows in .build/fuzz/corpus/TARGET across runs), and runs it. A crash,
# a leak, a timeout (10 s on one input) or memory past 2 GB is a finding: libFuzzer writes the input
# to .build/fuzz/findings/TARGET/, and the run fails. Fix the bug, then copy the input to
# Tests/Fuzz/TARGET/ where FuzzRegressionTests replays it in every test run.
#
# Prints, per target: executions, executions per second, coverage (edges) and corpus size.
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-all}
seconds=${2:-60}
SCRATCH=.build-fuzz
OUT=.build/fuzz
mkdir -p "$OUT"

echo "building the fuzz targets (libFuzzer + AddressSanitizer) in $SCRATCH …" >&2
start=$(date +%s)
swift build --scratch-path "$SCRATCH" --product recordkeeper-fuzz \
  -Xswiftc -DFUZZING -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >"$OUT/build.log" 2>&1 \
  || { tail -30 "$OUT/build.log" >&2; echo "the fuzz build failed (log: $OUT/build.log)" >&2; exit 1; }
echo "built in $(( $(date +%s) - start )) s" >&2
BIN=$SCRATCH/debug/recordkeeper-fuzz

# The targets, as the ordinary build of the same program lists them.
[ -x .build/debug/recordkeeper-fuzz ] || swift build --product recordkeeper-fuzz >"$OUT/build-plain.log" 2>&1
targets=$(.build/debug/recordkeeper-fuzz --list | sed -n 's/.*(targets: \(.*\))/\1/p' | tr -d ',')
[ -n "$targets" ] || { echo "could not list the fuzz targets" >&2; exit 1; }
if [ "$want" != all ]; then
  case " $targets " in *" $want "*) targets=$want ;; *) echo "no target $want (targets: $targets)" >&2; exit 2 ;; esac
fi

F=Tests/ConnectorsTests/Fixtures
seed() { # seed TARGET FILE… : copies seed files into the target's corpus
  local t=$1; shift
  mkdir -p "$OUT/corpus/$t"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$OUT/corpus/$t/seed-$(basename "$f" | tr ' ' '_')"; done
  return 0
}
make_seeds() {
  local t=$1
  case $t in
    whatsapp-txt) seed "$t" "$F"/whatsapp/*.txt ;;
    whatsapp-zip) seed "$t" "$F"/whatsapp/*.zip
      if [ ! -f "$OUT/corpus/$t/seed-generated.zip" ] && [ -x .build/debug/recordkeeper ]; then
        rm -rf "$OUT/gen" && .build/debug/recordkeeper sample-export --messages 30 --style androidZip --media-every 10 --out "$OUT/gen" >/dev/null 2>&1 \
          && cp "$OUT"/gen/*.zip "$OUT/corpus/$t/seed-generated.zip" 2>/dev/null || true
      fi ;;
    signal-json) seed "$t" "$F"/signal/signal-export/*/data.json ;;
    signal-md) seed "$t" "$F"/signal/signal-export/*/chat.md ;;
    telegram) seed "$t" "$F"/telegram/*.json ;;
    slack) mkdir -p "$OUT/corpus/$t"
      [ -f "$OUT/corpus/$t/seed-export.zip" ] || python3 - "$F/slack" "$OUT/corpus/$t/seed-export.zip" <<'PY'
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w") as z:
    for folder, _, files in os.walk(root):
        for f in files:
            path = os.path.join(folder, f)
            z.write(path, os.path.relpath(path, root))
PY
      ;;
    teams) seed "$t" "$F"/teams/* ;;
    sms) seed "$t" "$F"/sms/*.xml ;;
    eml) seed "$t" "$F"/mail/*.eml ;;
    mbox) seed "$t" "$F"/mail/*.mbox "$F"/mail-carried/*.mbox ;;
    wickr) seed "$t" "$F"/wickr/* ;;
    matrix) seed "$t" "$F"/matrix/*.json ;;
    html|html-entities) mkdir -p "$OUT/corpus/$t"
      printf '<p>Lane&nbsp;7 &amp; <b>seal</b><br>&#x1F600; &#128512; &lt;x&gt; &unknown; &#xZZ;</p>' >"$OUT/corpus/$t/seed-1"
      printf '<div><a href="x">a</a><br/>line<br>two &quot;quoted&quot; &#39;</div>' >"$OUT/corpus/$t/seed-2" ;;
    search) mkdir -p "$OUT/corpus/$t"
      i=0
      for q in 'crane' '"evidence locker"' 'maint*' 'a OR b' 'seal AND NOT pallet' '(a OR b) c' 'from:jane lane' '"port of entry" OR garita' 'operación'; do
        i=$((i + 1)); printf '%s' "$q" >"$OUT/corpus/$t/seed-$i"
      done ;;
    xlsx) mkdir -p "$OUT/corpus/$t"
      [ -f "$OUT/corpus/$t/seed-ats.xlsx" ] || { rm -rf "$OUT/xlsx-gen" && .build/debug/recordkeeper custody fixture --scenario ats-xlsx --out "$OUT/xlsx-gen" >/dev/null 2>&1 \
        && cp "$(find "$OUT/xlsx-gen" -name '*.xlsx' | head -1)" "$OUT/corpus/$t/seed-ats.xlsx" 2>/dev/null || true; } ;;
    csv) mkdir -p "$OUT/corpus/$t"
      printf 's10,rule_code,rule_version,reason_code,targeted_at,targeted_by\nEE471108151FR,R1,1,X,2019-06-17T06:00:00Z,ATS\n"a,b",2,"quoted ""x""",\r\n' >"$OUT/corpus/$t/seed-1" ;;
  esac
  mkdir -p "$OUT/corpus/$t"
}

status=0
printf '%-14s %12s %10s %8s %8s  %s\n' target executions "exec/s" edges corpus result
for t in $targets; do
  make_seeds "$t"
  mkdir -p "$OUT/findings/$t" "Tests/Fuzz/$t"
  log="$OUT/$t.log"
  set +e
  RK_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=suppressions=$PWD/scripts/fuzz-lsan.supp "$BIN" "$OUT/corpus/$t" "Tests/Fuzz/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
    -artifact_prefix="$OUT/findings/$t/" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
  cov=$( (grep -oE 'cov: [0-9]+' "$log" || true) | tail -1 | cut -d' ' -f2)
  corpus=$(find "$OUT/corpus/$t" -type f | wc -l)
  if [ $rc -eq 0 ]; then result=ok; else
    result="FINDING (exit $rc): $(ls -t "$OUT/findings/$t" | head -1) — see $log"
    status=1
  fi
  printf '%-14s %12s %10s %8s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" "$result"
done
exit $status
