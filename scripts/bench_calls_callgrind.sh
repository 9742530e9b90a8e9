#!/usr/bin/env bash
# Load-independent cost per call: runs scripts/bench_calls.sh at a low rate with Centrala
# under valgrind's callgrind and prints the user-space instructions Centrala executed per
# call (counters are zeroed when the step starts; the figure includes the drain after it).
# Kernel work (sockets, wake-ups) is not counted; use bench_calls.sh for CPU time.
#
#   scripts/bench_calls_callgrind.sh [path/to/centrala]     # RATE=10 calls/s, 15 s by default
#
# Needs valgrind (callgrind_control, callgrind_annotate) besides what bench_calls.sh needs.
# Keeps the callgrind output in OUT (default /tmp/centrala-callgrind) for callgrind_annotate.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/target/release/centrala}")
RATE=${RATE:-10}
STEP_SECS=${STEP_SECS:-15}
OUT=${OUT:-/tmp/centrala-callgrind}
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 2; }

mkdir -p "$OUT"
rm -f "$OUT"/callgrind.* "$OUT"/wrapper.sh
cat >"$OUT/wrapper.sh" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.%p "$BIN" "\$@"
EOF
chmod +x "$OUT/wrapper.sh"

MEM_CALLS=0 RATES="$RATE" STEP_SECS="$STEP_SECS" "$ROOT/scripts/bench_calls.sh" "$OUT/wrapper.sh" \
    >"$OUT/bench.out" 2>"$OUT/bench.err" &
BENCH=$!
zeroed=""
while kill -0 "$BENCH" 2>/dev/null; do
    if [ -z "$zeroed" ] && grep -q "step 1:" "$OUT/bench.err"; then
        pid=$(grep -o "pid [0-9]*" "$OUT/bench.err" | head -1 | cut -d' ' -f2)
        callgrind_control -z "$pid" >/dev/null 2>&1 && zeroed=$pid
    fi
    sleep 0.2
done
wait "$BENCH"
[ -n "$zeroed" ] || { echo "the step never started:" >&2; tail -5 "$OUT/bench.err" >&2; exit 1; }
row=$(grep -E "^\| $RATE " "$OUT/bench.out")
ok=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
ir=$(callgrind_annotate "$OUT/callgrind.$zeroed" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(/,/, "", $1); print $1}')
echo "$row"
awk -v ir="$ir" -v ok="$ok" 'BEGIN {
    if (ok > 0) printf "%d calls, %d instructions: %.0f instructions per call\n", ok, ir, ir / ok
    else print "no successful calls"
}'
echo "callgrind output: $OUT/callgrind.$zeroed"
