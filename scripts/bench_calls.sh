#!/usr/bin/env bash
# Call-rate benchmark of the B2BUA: SIPp caller -> Centrala -> registered SIPp callee.
#
#   scripts/bench_calls.sh [path/to/centrala]
#
# Each call: INVITE (SDP offer) -> 407 -> ACK -> INVITE with digest -> 100/180/200 -> ACK,
# 1 s hold (no media), BYE -> 200. Centrala anchors media, so every call holds 4 RTP ports.
# For each rate step the caller places RATE x STEP_SECS calls; the script reports, per step,
# the calls placed and failed on both legs, Centrala's own CPU per call (utime+stime of its
# PID from /proc, not the whole box), its RSS growth per active call at peak concurrency, and
# the CPU of both SIPp processes (the generator shares the cores). It stops after the first
# step with >= 0.1 % failed calls on either leg, or when SIPp cannot place calls at the rate.
#
# Environment (all optional):
#   RATES="250 500 1000 1500 2000 2500 3000"  call rates to try, calls/s, in order
#   STEP_SECS=15          seconds of new calls per step
#   REPEAT=3              runs of each rate, back to back in the same process; the report gives
#                         the median and spread of the CPU per call over them, and the RSS after
#                         each step's drain (memory must stay flat: the last within 10 % of the
#                         first)
#   SETTLE_SECS=35        after a step's calls ended, wait this long before reading the RSS
#                         (the calls' transactions linger 64*T1 = 32 s, RFC 6026)
#   SIP_PORT=28060 HTTP_PORT=28080 UAC_PORT=28070 UAS_PORT=28090 (SIPp also uses 28100-28300, 28890-28892)
#   RTP_MIN=10000 RTP_MAX=27999    Centrala's RTP range (4 ports per call: 4500 calls; keep
#                         4 x concurrency below the open-files limit, 20000 here)
#   MEM_CALLS=3000 MEM_RATE=200 MEM_HOLD_MS=25000   memory phase, run first on the fresh
#                         process: MEM_CALLS calls held open together (MEM_CALLS=0 skips it)
#   RUST_LOG=warn         Centrala's log filter (stderr goes to WORK/centrala.log); info logs
#                         ~4 lines per call, which costs CPU at thousands of calls/s
#   KEEP=1                keep the work directory (logs, SIPp CSVs, error files)
#   CONTINUE=1            do not stop at the first failing step
#
# Needs: sipp (Debian sip-tester), curl, awk. Run as root to raise net.core.rmem_max
# (restored at exit); without it the kernel caps the 8 MiB UDP buffers at the current max.
# Every process started here is stopped by PID; everything binds 127.0.0.1 only.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/target/release/centrala}")
SCEN=$ROOT/benches/sipp
RATES=${RATES:-"250 500 1000 1500 2000 2500 3000"}
STEP_SECS=${STEP_SECS:-15}
REPEAT=${REPEAT:-3}
SETTLE_SECS=${SETTLE_SECS:-35}
SIP_PORT=${SIP_PORT:-28060}
HTTP_PORT=${HTTP_PORT:-28080}
UAC_PORT=${UAC_PORT:-28070}
UAS_PORT=${UAS_PORT:-28090}
RTP_MIN=${RTP_MIN:-10000}
RTP_MAX=${RTP_MAX:-27999}
MEM_CALLS=${MEM_CALLS:-3000}
MEM_RATE=${MEM_RATE:-200}
MEM_HOLD_MS=${MEM_HOLD_MS:-25000}
MAX_FAIL_PCT=0.1
. "$ROOT/scripts/bench_lib.sh"
require_tools
raise_limits

# --- Centrala --------------------------------------------------------------------------------
{
    base_config
    cat <<EOF
[database]
url = "sqlite://data/bench.db"
[[extensions]]
number = "1001"
password = "p1001"
[[extensions]]
number = "2000"
password = "p2000"
EOF
} >"$WORK/bench.toml"

start_centrala

# --- register the callee from the UAS port ----------------------------------------------------
printf 'SEQUENTIAL\n2000;[authentication username=2000 password=p2000]\n' >"$WORK/callee.csv"
sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/register.xml" -inf "$WORK/callee.csv" \
    "${SIPP_COMMON[@]}" -p "$UAS_PORT" -cp 28890 -m 1 -timeout 10s \
    -trace_err -error_file "$WORK/register_err.log" >"$WORK/register.out" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait "$RPID"
rc=$?
[ "$rc" = 0 ] || { log "REGISTER of 2000 failed (sipp exit $rc)"; tail -20 "$WORK/register_err.log" >&2; exit 1; }
log "callee 2000 registered at 127.0.0.1:$UAS_PORT"

sleep 1
IDLE_RSS=$(rss_kib "$CPID")
log "idle RSS ${IDLE_RSS} KiB"

# --- memory phase: MEM_CALLS calls held open together on the fresh process -------------------
# RSS growth at full concurrency over the idle RSS, divided by the calls up. Run first, so the
# figure is not hidden by memory the allocator kept from earlier steps. It includes each call's
# setup transactions (they linger up to 64*T1 = 32 s after the final response, RFC 6026).
MEM_NOTE="memory phase skipped"
MEM_KIB=""
if [ "$MEM_CALLS" -gt 0 ]; then
    D="$WORK/mem"
    mkdir -p "$D"
    log "memory phase: $MEM_CALLS calls at $MEM_RATE/s, each held ${MEM_HOLD_MS} ms"
    sipp -sf "$SCEN/bench_uas.xml" "${SIPP_COMMON[@]}" -default_behaviors all,-abortunexp -p "$UAS_PORT" -mp 28200 -cp 28891 \
        -recv_timeout $((MEM_HOLD_MS + 20000)) -timeout $((MEM_HOLD_MS / 1000 + 120))s \
        -trace_stat -stf "$D/uas.csv" -fd 1 -trace_err -error_file "$D/uas_err.log" >"$D/uas.out" 2>&1 &
    UAS=$!
    PIDS+=("$UAS")
    sleep 0.5
    sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/bench_uac.xml" -s 2000 -au 1001 -ap p1001 \
        "${SIPP_COMMON[@]}" -p "$UAC_PORT" -mp 28100 -cp 28892 \
        -r "$MEM_RATE" -m "$MEM_CALLS" -d "$MEM_HOLD_MS" -l $((MEM_CALLS + 100)) \
        -default_behaviors all,-abortunexp -recv_timeout 10000 -timeout $((MEM_HOLD_MS / 1000 + 90))s \
        -trace_stat -stf "$D/uac.csv" -fd 1 -trace_err -error_file "$D/uac_err.log" >"$D/uac.out" 2>&1 &
    UAC=$!
    PIDS+=("$UAC")
    MEM_ACT=0
    MEM_RSS=$IDLE_RSS
    while kill -0 "$UAC" 2>/dev/null; do
        act=$(metric centrala_active_calls); act=${act%.*}
        rss=$(rss_kib "$CPID")
        echo "$(now_ms) $act $rss" >>"$D/samples.txt"
        if [ "${act:-0}" -ge "$MEM_ACT" ]; then MEM_ACT=$act; MEM_RSS=$rss; fi
        sleep 0.5
    done
    wait "$UAC"
    for _ in $(seq 300); do
        act=$(metric centrala_active_calls); act=${act%.*}
        [ "${act:-1}" = 0 ] && break
        sleep 0.1
    done
    kill -USR1 "$UAS" 2>/dev/null
    wait_exit "$UAS" 10 || kill -TERM "$UAS" 2>/dev/null
    wait "$UAS" 2>/dev/null
    MOK=$(csv_col "$D/uac.csv" "SuccessfulCall(C)")
    MEM_KIB=$(awk -v a="$MEM_ACT" -v p="$MEM_RSS" -v i="$IDLE_RSS" 'BEGIN {printf "%.1f", (a > 0) ? (p - i) / a : 0}')
    MEM_NOTE="memory phase: $MEM_ACT calls active at once, RSS $IDLE_RSS -> $MEM_RSS KiB = $MEM_KIB KiB per active call ($MOK/$MEM_CALLS calls ok); RSS after they ended: $(rss_kib "$CPID") KiB"
    log "$MEM_NOTE"
    IDLE_RSS=$(rss_kib "$CPID")
    sleep 2
fi

# --- steps ------------------------------------------------------------------------------------
# columns: rate, placed (caller), caller ok/failed, callee in/ok/failed, worst leg fail %,
# achieved placing rate, Centrala CPU ms/call, Centrala CPU % of one core, peak active calls,
# RSS at that peak (MiB), SIPp caller / callee CPU % of one core, 503 load sheds, verdict.
ROWS=()
BEST=0
BEST_ROW=""
step=0
STEP_RATES=()
for R in $RATES; do for ((run = 1; run <= REPEAT; run++)); do STEP_RATES+=("$R"); done; done
AFTER=()
for RATE in "${STEP_RATES[@]}"; do
    step=$((step + 1))
    CALLS=$((RATE * STEP_SECS))
    LIMIT=$((RATE * 5 + 1000)); [ "$LIMIT" -gt 15000 ] && LIMIT=15000
    D="$WORK/step$step-$RATE"
    mkdir -p "$D"
    log "step $step: $RATE calls/s x ${STEP_SECS}s = $CALLS calls"

    # the callee
    sipp -sf "$SCEN/bench_uas.xml" "${SIPP_COMMON[@]}" -default_behaviors all,-abortunexp -p "$UAS_PORT" -mp 28200 -cp 28891 \
        -recv_timeout 20000 -timeout $((STEP_SECS + 120))s \
        -trace_stat -stf "$D/uas.csv" -fd 1 -trace_err -error_file "$D/uas_err.log" \
        >"$D/uas.out" 2>&1 &
    UAS=$!
    PIDS+=("$UAS")
    sleep 0.5
    kill -0 "$UAS" 2>/dev/null || { log "the SIPp callee did not start:"; cat "$D/uas.out" >&2; exit 1; }

    SHED0=$(metric centrala_sip_load_shed_total)
    C0=$(ticks "$CPID")
    U0=$(ticks "$UAS")
    B0=$(box_busy)
    T0=$(now_ms)

    # the caller
    sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/bench_uac.xml" -s 2000 -au 1001 -ap p1001 \
        "${SIPP_COMMON[@]}" -p "$UAC_PORT" -mp 28100 -cp 28892 \
        -r "$RATE" -rp 1000 -m "$CALLS" -d 1000 -l "$LIMIT" \
        -default_behaviors all,-abortunexp -recv_timeout 10000 -timeout $((STEP_SECS + 60))s \
        -trace_stat -stf "$D/uac.csv" -fd 1 -trace_err -error_file "$D/uac_err.log" \
        >"$D/uac.out" 2>&1 &
    UAC=$!
    PIDS+=("$UAC")

    # sample until the caller exits: Centrala RSS + active calls, SIPp caller CPU
    PEAK_ACT=0
    PEAK_RSS=$IDLE_RSS
    UACT=0
    while kill -0 "$UAC" 2>/dev/null; do
        t=$(ticks "$UAC"); [ "$t" -gt 0 ] && UACT=$t
        act=$(metric centrala_active_calls)
        rss=$(rss_kib "$CPID")
        act=${act%.*}
        if [ "${act:-0}" -gt "$PEAK_ACT" ]; then PEAK_ACT=$act; PEAK_RSS=$rss; fi
        echo "$(now_ms) $act $rss" >>"$D/samples.txt"
        sleep 0.5
    done
    wait "$UAC"
    UAC_RC=$?
    T1=$(now_ms)

    # drain: wait for Centrala's active calls to reach 0 (at most 40 s)
    for _ in $(seq 400); do
        act=$(metric centrala_active_calls); act=${act%.*}
        [ "${act:-1}" = 0 ] && break
        sleep 0.1
    done
    C1=$(ticks "$CPID")
    U1=$(ticks "$UAS")
    B1=$(box_busy)
    T2=$(now_ms)
    SHED1=$(metric centrala_sip_load_shed_total)
    sleep "$SETTLE_SECS"
    AFTER_RSS=$(rss_kib "$CPID")
    AFTER+=("$AFTER_RSS")
    LEFT=$(metric centrala_active_calls)

    # stop the callee softly (SIGUSR1: finish the calls in progress, dump stats, exit)
    kill -USR1 "$UAS" 2>/dev/null
    wait_exit "$UAS" 10 || kill -TERM "$UAS" 2>/dev/null
    wait "$UAS" 2>/dev/null

    # SIPp CSVs (cumulative counters, last line)
    UAC_CREATED=$(csv_col "$D/uac.csv" "TotalCallCreated")
    UAC_OK=$(csv_col "$D/uac.csv" "SuccessfulCall(C)")
    UAC_FAIL=$(csv_col "$D/uac.csv" "FailedCall(C)")
    UAS_IN=$(csv_col "$D/uas.csv" "IncomingCall(C)")
    UAS_OK=$(csv_col "$D/uas.csv" "SuccessfulCall(C)")
    UAS_FAIL=$(csv_col "$D/uas.csv" "FailedCall(C)")
    # placing rate actually achieved: calls created per second from the caller's start to its
    # last 1 s stats dump before the last call was placed (CSV times carry microseconds)
    ACHIEVED=$(awk -F';' -v n="$CALLS" '
        function epoch(f,   a) { split(f, a, "\t"); return a[3] }
        NR == 1 {for (i = 1; i <= NF; i++) {if ($i == "TotalCallCreated") k = i; if ($i == "CurrentTime") c = i; if ($i == "StartTime") s = i}; next}
        $k < n {t = epoch($c) - epoch($s); if (t > 0) r = $k / t; next}
        $k >= n && !r {t = epoch($c) - epoch($s); if (t > 0) r = $k / t}
        END {printf "%.0f", r + 0}' "$D/uac.csv" 2>/dev/null)
    [ -n "$ACHIEVED" ] || ACHIEVED=0
    awk -v rate="$RATE" -v calls="$CALLS" -v created="$UAC_CREATED" -v ok="$UAC_OK" \
        -v fail="$UAC_FAIL" -v uin="$UAS_IN" -v uok="$UAS_OK" -v ufail="$UAS_FAIL" \
        -v achieved="$ACHIEVED" -v c0="$C0" -v c1="$C1" -v u0="$U0" -v u1="$U1" -v uact="$UACT" \
        -v hz="$HZ" -v t0="$T0" -v t1="$T1" -v t2="$T2" -v pact="$PEAK_ACT" -v prss="$PEAK_RSS" \
        -v irss="$IDLE_RSS" -v shed="$(( ${SHED1%.*} - ${SHED0%.*} ))" -v maxf="$MAX_FAIL_PCT" \
        -v b0="$B0" -v b1="$B1" -v rc="$UAC_RC" -v left="${LEFT%.*}" -v arss="$AFTER_RSS" '
    BEGIN {
        # caller leg: every call that was meant to be placed and did not succeed
        cfail = calls - ok; cpct = 100 * cfail / calls
        # callee leg: every call answered by the caller side should have reached the callee
        efail = calls - uok; epct = 100 * efail / calls
        worst = (cpct > epct) ? cpct : epct
        cms = (ok > 0) ? (c1 - c0) * 1000 / hz / ok : 0
        ccore = 100 * (c1 - c0) / hz / ((t2 - t0) / 1000)
        kib = prss / 1024
        sc = 100 * uact / hz / ((t1 - t0) / 1000)
        se = 100 * (u1 - u0) / hz / ((t2 - t0) / 1000)
        # everything else on the box (other work sharing the cores), % of one core
        other = 100 * ((b1 - b0) - (c1 - c0) - (u1 - u0)) / hz / ((t2 - t0) / 1000) - sc
        if (other < 0) other = 0
        verdict = (worst < maxf && achieved >= 0.95 * rate) ? "pass" : (worst >= maxf ? "FAIL" : "gen-limited")
        printf "%d|%d|%d|%d|%d|%d|%d|%.3f|%.0f|%.3f|%.0f|%d|%.1f|%.1f|%.0f|%.0f|%.0f|%d|%d|%d|%s\n",
            rate, created, ok, fail, uin, uok, ufail, worst, achieved, cms, ccore, pact, kib,
            arss / 1024, sc, se, other, shed, rc, left, verdict
    }' >"$D/row.txt"
    ROW=$(cat "$D/row.txt")
    ROWS+=("$ROW")
    echo "$ROW  (RSS peak $PEAK_RSS KiB, after drain $AFTER_RSS KiB)" >&2
    VERDICT=${ROW##*|}
    if [ "$VERDICT" = pass ]; then BEST=$RATE; BEST_ROW=$ROW; fi
    if [ "$VERDICT" != pass ] && [ "${CONTINUE:-0}" != 1 ]; then
        log "stopping: $VERDICT at $RATE calls/s"
        if [ -s "$D/uac_err.log" ]; then log "caller error file (first lines):"; head -15 "$D/uac_err.log" >&2; fi
        if [ -s "$D/uas_err.log" ]; then log "callee error file (first lines):"; head -15 "$D/uas_err.log" >&2; fi
        break
    fi
    sleep 2
done

# --- report -----------------------------------------------------------------------------------
echo
echo "Centrala call-rate benchmark: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
echo "steps of ${STEP_SECS}s, 1 s calls, $BUF_NOTE"
echo "$MEM_NOTE"
echo "(RSS at peak: Centrala's RSS at the sample with most calls up; it also holds the state of calls ended in the last 32 s and what the allocator kept from earlier steps)"
echo
echo "| rate/s | placed | caller ok | caller failed | callee in | callee ok | callee failed | worst leg fail % | achieved/s | Centrala CPU ms/call | Centrala CPU % | peak active | RSS at peak MiB | RSS settled after MiB | SIPp caller CPU % | SIPp callee CPU % | other load CPU % | 503 shed | sipp rc | left | verdict |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
echo
if [ "$BEST" -gt 0 ]; then
    IFS='|' read -r _ _ _ _ _ _ _ _ _ cms _ <<<"$BEST_ROW"
    echo "highest passing rate: $BEST calls/s (< ${MAX_FAIL_PCT} % failed on both legs); at that rate ${cms} ms Centrala CPU per call"
    [ -n "$MEM_KIB" ] && echo "memory per active call (memory phase): $MEM_KIB KiB"
else
    echo "no step passed"
fi
for R in $RATES; do
    cpu=$(for r in "${ROWS[@]}"; do IFS='|' read -r rate _ _ _ _ _ _ _ _ cms _ <<<"$r"; [ "$rate" = "$R" ] && echo "$cms"; done | spread)
    echo "REPEATED $R calls/s: Centrala CPU ms per call $cpu"
done
if [ "${#AFTER[@]}" -ge 2 ]; then
    awk -v first="${AFTER[0]}" -v last="${AFTER[${#AFTER[@]} - 1]}" -v all="${AFTER[*]}" -v s="$SETTLE_SECS" 'BEGIN {
        d = 100 * (last - first) / first
        printf "memory across steps (RSS %d s after each drain, KiB): %s; last vs first %+.1f %%: %s (target within 10 %%)\n",
            s, all, d, (d <= 10) ? "flat" : "GROWS" }'
fi
echo "targets: >= 2000 calls/s, <= 0.5 ms Centrala CPU per call, < 64 KiB per active call"
