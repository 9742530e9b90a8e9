#!/usr/bin/env bash
# Contact-centre call-rate benchmark: SIPp callers -> Centrala's IVR (answer, 1.8 s welcome
# prompt) -> the ACD queue "bench" -> an available agent (one of AGENTS SIPp-registered agent
# extensions, all answered by one SIPp UAS) -> bridged until the caller hangs up.
#
#   scripts/bench_queue.sh [path/to/centrala]
#
# For each rate step the caller places RATE x STEP_SECS calls, each held HOLD_MS from the IVR's
# answer (prompt + queue + agent talk), no media sent. Reported per step: calls placed, failed
# on the caller leg and answered by agents; Centrala's CPU per call (utime+stime of its PID);
# and the time from queue entry to the agent's phone ringing (the ACD's `offer` rows in the
# queue log, wait_ms: p50/p95/p99/max).
#
# Environment (all optional):
#   RATES="50 100 200"   call rates, calls/s, in order
#   STEP_SECS=15 HOLD_MS=5000 AGENTS=1200
#   SIP_PORT=29060 HTTP_PORT=29080 UAC_PORT=29070 UAS_PORT=29090 (SIPp also uses 29100-29300, 29890-29892)
#   RTP_MIN=30000 RTP_MAX=45999   KEEP=1 keeps the work directory   RUST_LOG=warn
#
# Needs: sipp, curl, awk, python3 (its sqlite3 module reads the queue log). Run as root to raise
# net.core.rmem_max (restored at exit). Everything binds 127.0.0.1 only.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/target/release/centrala}")
SCEN=$ROOT/benches/sipp
RATES=${RATES:-"50 100 200"}
STEP_SECS=${STEP_SECS:-15}
HOLD_MS=${HOLD_MS:-5000}
AGENTS=${AGENTS:-1200}
SIP_PORT=${SIP_PORT:-29060}
HTTP_PORT=${HTTP_PORT:-29080}
UAC_PORT=${UAC_PORT:-29070}
UAS_PORT=${UAS_PORT:-29090}
RTP_MIN=${RTP_MIN:-30000}
RTP_MAX=${RTP_MAX:-45999}
MAX_FAIL_PCT=0.1
. "$ROOT/scripts/bench_lib.sh"
require_tools
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }
raise_limits

# --- Centrala: a caller, AGENTS agents with skill "bench", the queue and its dialplan ------------
mkdir -p "$WORK/dialplans"
cat >"$WORK/dialplans/bench.yaml" <<'YAML'
languages: [en]
routes:
  - number: "7000"
    flow: main
flows:
  main:
    steps:
      - answer
      - play: [welcome]
      - queue: { name: bench, skills: [bench] }
YAML
{
    base_config
    cat <<TOML
sounds_dir = "$ROOT/sounds"
[dialplan]
dir = "$WORK/dialplans"
[database]
url = "sqlite://data/bench.db"
[[queues]]
name = "bench"
skills = { bench = 1 }
ring_no_answer_secs = 10
wrap_up_secs = 0
[[extensions]]
number = "1001"
password = "p1001"
TOML
    echo "SEQUENTIAL" >"$WORK/agents.csv"
    for ((i = 1; i <= AGENTS; i++)); do
        n=$((3000 + i))
        printf '[[extensions]]\nnumber = "%s"\npassword = "p%s"\nrole = "agent"\nskills = { bench = 5 }\n' "$n" "$n"
        echo "$n;[authentication username=$n password=p$n]" >>"$WORK/agents.csv"
    done
} >"$WORK/bench.toml"
start_centrala

# --- every agent registers from the UAS port (the registrar logs agents in) ---------------------
sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/register.xml" -inf "$WORK/agents.csv" \
    "${SIPP_COMMON[@]}" -p "$UAS_PORT" -cp 29890 -m "$AGENTS" -r 200 -timeout 60s \
    -trace_err -error_file "$WORK/register_err.log" >"$WORK/register.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { log "REGISTER of the agents failed (sipp exit $rc)"; tail -20 "$WORK/register_err.log" >&2; exit 1; }
log "$AGENTS agents registered at 127.0.0.1:$UAS_PORT"
sleep 1

# Queue-entry-to-ring percentiles (ms) of the offers logged since T_MS: "p50 p95 p99 max count".
offer_waits() {
    python3 - "$WORK/data/bench.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
waits = sorted(w for (w,) in db.execute(
    "SELECT wait_ms FROM queue_log WHERE event = 'offer' AND ts_ms >= ? AND wait_ms IS NOT NULL",
    (int(sys.argv[2]),)))
pick = lambda q: waits[min(len(waits) - 1, int(q * len(waits)))] if waits else 0
print(pick(0.50), pick(0.95), pick(0.99), waits[-1] if waits else 0, len(waits))
PY
}

# --- steps ----------------------------------------------------------------------------------------
ROWS=()
step=0
for RATE in $RATES; do
    step=$((step + 1))
    CALLS=$((RATE * STEP_SECS))
    D="$WORK/step$step-$RATE"
    mkdir -p "$D"
    log "step $step: $RATE calls/s x ${STEP_SECS}s = $CALLS calls"
    sipp -sf "$SCEN/bench_uas.xml" "${SIPP_COMMON[@]}" -default_behaviors all,-abortunexp \
        -p "$UAS_PORT" -mp 29200 -cp 29891 -recv_timeout 30000 -timeout $((STEP_SECS + 120))s \
        -trace_stat -stf "$D/uas.csv" -fd 1 -trace_err -error_file "$D/uas_err.log" >"$D/uas.out" 2>&1 &
    UAS=$!
    PIDS+=("$UAS")
    sleep 0.5
    C0=$(ticks "$CPID")
    T0=$(now_ms)
    sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/bench_uac.xml" -s 7000 -au 1001 -ap p1001 \
        "${SIPP_COMMON[@]}" -p "$UAC_PORT" -mp 29100 -cp 29892 \
        -r "$RATE" -rp 1000 -m "$CALLS" -d "$HOLD_MS" -l $((RATE * 10 + 500)) \
        -default_behaviors all,-abortunexp -recv_timeout 20000 -timeout $((STEP_SECS + 90))s \
        -trace_stat -stf "$D/uac.csv" -fd 1 -trace_err -error_file "$D/uac_err.log" >"$D/uac.out" 2>&1
    wait_idle 60
    C1=$(ticks "$CPID")
    T2=$(now_ms)
    kill -USR1 "$UAS" 2>/dev/null
    wait_exit "$UAS" 10 || kill -TERM "$UAS" 2>/dev/null
    wait "$UAS" 2>/dev/null
    UAC_OK=$(csv_col "$D/uac.csv" "SuccessfulCall(C)")
    UAS_OK=$(csv_col "$D/uas.csv" "SuccessfulCall(C)")
    read -r P50 P95 P99 PMAX NOFFERS <<<"$(offer_waits "$T0")"
    ROW=$(awk -v rate="$RATE" -v calls="$CALLS" -v ok="$UAC_OK" -v agent="$UAS_OK" \
        -v c0="$C0" -v c1="$C1" -v hz="$HZ" -v t0="$T0" -v t2="$T2" -v maxf="$MAX_FAIL_PCT" \
        -v p50="$P50" -v p95="$P95" -v p99="$P99" -v pmax="$PMAX" -v offers="$NOFFERS" 'BEGIN {
        fail = 100 * (calls - ok) / calls; afail = 100 * (calls - agent) / calls
        worst = (fail > afail) ? fail : afail
        cms = (ok > 0) ? (c1 - c0) * 1000 / hz / ok : 0
        ccore = 100 * (c1 - c0) / hz / ((t2 - t0) / 1000)
        printf "%d|%d|%d|%d|%.3f|%.3f|%.0f|%d|%d|%d|%d|%d|%s\n", rate, calls, ok, agent, worst, cms,
            ccore, offers, p50, p95, p99, pmax, (worst < maxf) ? "pass" : "FAIL"
    }')
    ROWS+=("$ROW")
    echo "$ROW" >&2
    [ "${ROW##*|}" = pass ] || { log "stopping at $RATE calls/s"; head -15 "$D/uac_err.log" >&2; break; }
    sleep 2
done

echo
echo "Centrala IVR + queue + agent benchmark: $(machine)"
echo "steps of ${STEP_SECS}s, calls held ${HOLD_MS} ms from the IVR answer, $AGENTS agents, $BUF_NOTE"
echo
echo "| rate/s | placed | caller ok | agent answered | worst fail % | Centrala CPU ms/call | Centrala CPU % | offers | queue->ring p50 ms | p95 | p99 | max | verdict |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
