#!/usr/bin/env bash
# Media benchmark: SIPp caller -> Centrala -> registered SIPp callee, both SIPps streaming 20 ms
# RTP for the whole call (one stream per call on each side), Centrala anchoring the media.
#
#   scripts/bench_media.sh [path/to/centrala] [MODE...]      MODE: relay recording transcode ivr
#
# Modes (each on a freshly started Centrala, in the order given; all four by default):
#   relay      CALLS_RELAY (1000) concurrent PCMU<->PCMU calls of CALL_SECS (40) s: the packet
#              relay fast path (no decode).
#   recording  CALLS_RECORDING (600) concurrent calls, every call recorded (the caller's
#              extension has record = "always": stereo WAV, both directions decoded).
#   transcode  CALLS_TRANSCODE (300) concurrent calls whose caller offers only Opus (a pcap
#              encoded with libopus by benches/sipp/make_media.py) and whose callee answers
#              PCMU: Opus <-> G.711 through the decode path.
#   ivr        IVR_RATE (400) calls/s for IVR_SECS (15) s: the IVR answers, plays a 1 s prompt,
#              then dials the callee and bridges; the caller hangs up 2 s after the answer.
#   shutdown   CALLS_SHUTDOWN (1000) concurrent relayed calls, then SIGTERM with [calls]
#              drain_secs = SHUTDOWN_DRAIN (5): the time until Centrala has exited (target: the
#              drain time plus at most 5 s) and the CDRs written (target: one per call).
#
# Each mode runs REPEAT (3) times, each on a fresh process; the report ends with one
# "REPEATED <mode>: median (min, max, runs)" line per mode over its runs.
#
# Reported per concurrent mode, over the steady state (every sample with all calls up):
# Centrala's CPU per call in % of one core (utime+stime of its PID / seconds / calls up), its
# RSS growth per call, calls failed on either leg, RTP loss as Centrala counted it (the CDR's
# packets/lost per side, RFC 3550 A.3 from sequence numbers) and kernel drops on Centrala's RTP
# sockets (/proc/net/udp). For ivr: Centrala CPU ms per call over the whole step. A mode passes
# with < 0.1 % failed calls, no loss, every call side delivering >= 90 % of its packets, and its
# CPU target (relay 0.07 % of a core per call; recording 0.12 %, i.e. 0.05 % over the relay's
# 0.07, and with relay run first the summary gives the measured difference; ivr 1.5 ms). The
# report ends with one "SUMMARY <mode>: ..." line per mode (grep for them).
#
# Environment (all optional):
#   CALLS_RELAY=1000 CALLS_RECORDING=600 CALLS_TRANSCODE=300 CALL_SECS=40
#   RAMP_RATE=100         calls/s while the concurrent calls are being set up
#   IVR_RATE=400 IVR_SECS=15 IVR_HOLD_MS=2000
#   SIP_PORT=31060 HTTP_PORT=31080 UAC_PORT=31070 UAS_PORT=31090 (SIPp media 31100/31200,
#   control ports 31890-31892)   RTP_MIN=40000 RTP_MAX=59999   KEEP=1   RUST_LOG=warn
#
# SIPp 3.6 sends all of an instance's rtp_stream calls from its one -mp socket and never reads
# it, so what Centrala sends toward the SIPps is dropped by the kernel there (by design, not
# counted). Needs: sipp, curl, awk, python3 (+ libopus.so.0 for the Opus pcap). Run as root
# (raw-socket pcap play, net.core.rmem_max, restored at exit). Everything binds 127.0.0.1.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/release/centrala
MODES=()
for arg in "$@"; do
    case $arg in
    relay | recording | transcode | ivr | shutdown) MODES+=("$arg") ;;
    *) BIN=$arg ;;
    esac
done
[ ${#MODES[@]} -gt 0 ] || MODES=(relay recording transcode ivr)
BIN=$(realpath "$BIN")
CALLS_RELAY=${CALLS_RELAY:-1000}
CALLS_RECORDING=${CALLS_RECORDING:-600}
CALLS_TRANSCODE=${CALLS_TRANSCODE:-300}
CALL_SECS=${CALL_SECS:-40}
RAMP_RATE=${RAMP_RATE:-100}
IVR_RATE=${IVR_RATE:-400}
IVR_SECS=${IVR_SECS:-15}
IVR_HOLD_MS=${IVR_HOLD_MS:-2000}
CALLS_SHUTDOWN=${CALLS_SHUTDOWN:-1000}
SHUTDOWN_DRAIN=${SHUTDOWN_DRAIN:-5}
REPEAT=${REPEAT:-3}
SIP_PORT=${SIP_PORT:-31060}
HTTP_PORT=${HTTP_PORT:-31080}
UAC_PORT=${UAC_PORT:-31070}
UAS_PORT=${UAS_PORT:-31090}
RTP_MIN=${RTP_MIN:-40000}
RTP_MAX=${RTP_MAX:-59999}
MAX_FAIL_PCT=0.1
. "$ROOT/scripts/bench_lib.sh"
require_tools
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }
raise_limits

# --- media files, scenarios, prompts -------------------------------------------------------------
# SIPp looks media files up next to the scenario and in the cwd, so everything runs from WORK.
python3 "$ROOT/benches/sipp/make_media.py" "$WORK" --opus-seconds $((CALL_SECS + 5)) >&2 || exit 2
cp "$ROOT"/benches/sipp/media_*.xml "$ROOT/benches/sipp/register.xml" "$WORK/"
# The Opus-only caller: the same scenario offering opus/48000/2 (and telephone-event/48000),
# playing the Opus pcap instead of the u-law stream.
sed -e 's/RTP\/AVP 0 101/RTP\/AVP 96 101/' -e 's/rtpmap:0 PCMU\/8000/rtpmap:96 opus\/48000\/2/' \
    -e 's/telephone-event\/8000/telephone-event\/48000/' \
    -e 's/<exec rtp_stream="media_pcmu.ulaw,-1,0"\/>/<exec play_pcap_audio="media_opus.pcap"\/>/' \
    "$WORK/media_uac.xml" >"$WORK/media_uac_opus.xml"
mkdir -p "$WORK/sounds"
cp -rs "$ROOT/sounds/." "$WORK/sounds/"
mv "$WORK/en/bench_prompt.wav" "$WORK/sounds/en/"
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
      - play: [bench_prompt]
      - dial: { extension: "2000", timeout: 10s }
YAML

# write_config RECORD_POLICY: Centrala's config for one mode (caller 1001, callee 2000).
write_config() {
    {
        base_config
        cat <<EOF
sounds_dir = "$WORK/sounds"
recordings_dir = "$WORK/data/recordings"
[dialplan]
dir = "$WORK/dialplans"
[database]
url = "sqlite://data/bench.db"
[[extensions]]
number = "1001"
password = "p1001"
record = "$1"
[[extensions]]
number = "2000"
password = "p2000"
[calls]
drain_secs = ${DRAIN_SECS:-30}
EOF
    } >"$WORK/bench.toml"
}

# Starts a fresh Centrala for a mode and registers the callee from the UAS port.
fresh_centrala() {
    if [ -n "${CPID:-}" ] && kill -0 "$CPID" 2>/dev/null; then
        kill -TERM "$CPID"
        wait_exit "$CPID" 20 || kill -KILL "$CPID" 2>/dev/null
        wait "$CPID" 2>/dev/null
    fi
    rm -rf "$WORK/data"
    write_config "$1"
    start_centrala
    printf 'SEQUENTIAL\n2000;[authentication username=2000 password=p2000]\n' >"$WORK/callee.csv"
    register_users "$WORK/callee.csv" "$SIP_PORT" "$UAS_PORT" 31890
    sleep 1
}

# Kernel receive drops summed over Centrala's RTP sockets (the "drops" column of /proc/net/udp
# for local ports in RTP_MIN..RTP_MAX).
rtp_drops() {
    awk -v lo="$RTP_MIN" -v hi="$RTP_MAX" '
        function hex(s,   i, n) {
            for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
            return n
        }
        NR > 1 {
        split($2, a, ":"); port = hex(a[2])
        if (port >= lo && port <= hi) d += $NF
    } END {print d + 0}' /proc/net/udp
}

start_uas() { # start_uas DIR: the callee, streaming PCMU on every call; sets UAS
    (cd "$WORK" && exec sipp -sf media_uas.xml "${SIPP_COMMON[@]}" -default_behaviors all,-abortunexp \
        -p "$UAS_PORT" -mp 31200 -cp 31891 -recv_timeout $((CALL_SECS * 1000 + 60000)) \
        -timeout $((CALL_SECS + 600))s -trace_stat -stf "$1/uas.csv" -fd 1 \
        -trace_err -error_file "$1/uas_err.log" >"$1/uas.out" 2>&1) &
    UAS=$!
    PIDS+=("$UAS")
    sleep 0.5
    kill -0 "$UAS" 2>/dev/null || { log "the SIPp callee did not start:"; cat "$1/uas.out" >&2; exit 1; }
}

start_uac() { # start_uac DIR SCENARIO SERVICE RATE CALLS LIMIT HOLD_MS: sets UAC
    (cd "$WORK" && exec sipp "127.0.0.1:$SIP_PORT" -sf "$2" -s "$3" -au 1001 -ap p1001 \
        "${SIPP_COMMON[@]}" -p "$UAC_PORT" -mp 31100 -cp 31892 -r "$4" -rp 1000 -m "$5" -l "$6" \
        -d "$7" -default_behaviors all,-abortunexp -recv_timeout 20000 \
        -timeout $(($5 / $4 + $7 / 1000 + 120))s \
        -trace_stat -stf "$1/uac.csv" -fd 1 -trace_err -error_file "$1/uac_err.log" >"$1/uac.out" 2>&1) &
    UAC=$!
    PIDS+=("$UAC")
}

SUMMARIES=()

# run_concurrent MODE CALLS SCENARIO RECORD_POLICY TARGET_PCT
run_concurrent() {
    local mode=$1 n=$2 scenario=$3 target=$5 D="$WORK/$1"
    mkdir -p "$D"
    log "$mode: $n concurrent ${CALL_SECS}-s calls, set up at $RAMP_RATE/s"
    fresh_centrala "$4"
    local idle_rss t0 drops=0 act
    idle_rss=$(rss_kib "$CPID")
    start_uas "$D"
    t0=$(now_ms)
    start_uac "$D" "$scenario" 2000 "$RAMP_RATE" "$n" "$n" $((CALL_SECS * 1000))
    # samples: time_ms active rss_kib centrala_ticks uac_ticks uas_ticks box_ticks
    while kill -0 "$UAC" 2>/dev/null && ! sipp_finished "$D/uac.csv" "$n"; do
        act=$(metric centrala_active_calls); act=${act%.*}
        echo "$(now_ms) ${act:-0} $(rss_kib "$CPID") $(ticks "$CPID") $(ticks "$UAC") $(ticks "$UAS") $(box_busy)" >>"$D/samples.txt"
        [ "${act:-0}" -ge "$n" ] && drops=$(rtp_drops)
        sleep 0.5
    done
    stop_soft "$UAC"
    wait_idle 90 || log "$mode: calls still up after 90 s"
    stop_soft "$UAS"
    sleep 1
    local uac_ok uas_ok
    uac_ok=$(calls_ok "$D/uac.csv" "$n" "$WORK/data/bench.db" "$t0")
    uas_ok=$(calls_ok "$D/uas.csv" "$n" "$WORK/data/bench.db" "$t0")
    read -r ncdr nmedia cpk clost epk elost lossy mincp minep <<<"$(cdr_media "$WORK/data/bench.db" "$t0")"
    local row
    row=$(awk -v mode="$mode" -v n="$n" -v uok="$uac_ok" -v sok="$uas_ok" -v hz="$HZ" \
        -v irss="$idle_rss" -v target="$target" -v maxf="$MAX_FAIL_PCT" -v drops="$drops" \
        -v cpk="$cpk" -v clost="$clost" -v epk="$epk" -v elost="$elost" -v lossy="$lossy" \
        -v mincp="$mincp" -v minep="$minep" -v secs="$CALL_SECS" '
        $2 >= n { if (!f) {f = 1; t0 = $1; c0 = $4; u0 = $5; s0 = $6; b0 = $7}
                  t1 = $1; c1 = $4; u1 = $5; s1 = $6; b1 = $7; sum += $2; k++; if ($3 > rss) rss = $3 }
        END {
            w = (t1 - t0) / 1000
            fail = 100 * (n - uok) / n; efail = 100 * (n - sok) / n; worst = (fail > efail) ? fail : efail
            if (w < 5) { printf "%s|%d|%d|%d|%.3f|-|-|-|-|-|-|%d|%d|%d|%d|no steady state\n", mode, n, uok, sok, worst, cpk + epk, clost + elost, lossy, drops; exit }
            calls = sum / k
            core = 100 * (c1 - c0) / hz / w
            per = core / calls
            uac = 100 * (u1 - u0) / hz / w; uas = 100 * (s1 - s0) / hz / w
            other = 100 * (b1 - b0) / hz / w - core - uac - uas; if (other < 0) other = 0
            kib = (rss - irss) / calls
            lost = clost + elost
            expect = secs * 50 * 0.9
            streams = (mincp >= expect && minep >= expect) ? "" : sprintf(" (a call side got fewer than %d packets: min %d/%d)", expect, mincp, minep)
            ok = (worst < maxf && lost == 0 && drops == 0 && per <= target && streams == "")
            printf "%s|%d|%d|%d|%.3f|%.0f|%.1f|%.4f|%.0f|%.0f|%.0f|%.1f|%d|%d|%d|%d|%s%s\n", mode, n, uok, sok, worst,
                calls, w, per, core, uac + uas, other, kib, cpk + epk, lost, lossy, drops, ok ? "pass" : "FAIL", streams
        }' "$D/samples.txt")
    ROWS+=("$row")
    echo "$row" >&2
    IFS='|' read -r _ _ _ _ worst calls w per core _ _ kib pk lost _ dr verdict <<<"$row"
    local extra=""
    [ "$mode" = relay ] && RELAY_PER=$per
    if [ "$mode" = recording ] && [ -n "${RELAY_PER:-}" ] && [ "$per" != - ]; then
        extra=$(awk -v r="$per" -v b="$RELAY_PER" 'BEGIN {d = r - b; printf ", recording adds %.4f %% of a core per call over relay (target <= 0.05): %s", d, (d <= 0.05) ? "pass" : "FAIL"}')
    fi
    kib="$kib KiB per call"
    [ "$mode" = relay ] || kib="$kib (codec/recording state included)"
    RUNS[$mode]+="$per "
    SUMMARIES+=("SUMMARY $mode: $n concurrent calls, failed $worst %, Centrala $per % of a core per call (target <= $target)$extra, $kib, RTP $pk packets received, $lost lost, $dr kernel drops, steady state ${w} s: $verdict")
}

run_ivr() {
    local D="$WORK/ivr" calls=$((IVR_RATE * IVR_SECS))
    mkdir -p "$D"
    log "ivr: $IVR_RATE calls/s for ${IVR_SECS} s = $calls calls (prompt 1 s, then bridged), ${IVR_HOLD_MS} ms each"
    fresh_centrala never
    start_uas "$D"
    local t0 c0 c1 t2 b0 b1 u0 u1
    t0=$(now_ms); c0=$(ticks "$CPID"); b0=$(box_busy); u0=$(ticks "$UAS")
    start_uac "$D" media_uac.xml 7000 "$IVR_RATE" "$calls" $((IVR_RATE * 10 + 500)) "$IVR_HOLD_MS"
    local uact=0 t
    while kill -0 "$UAC" 2>/dev/null && ! sipp_finished "$D/uac.csv" "$calls"; do
        t=$(ticks "$UAC"); [ "$t" -gt 0 ] && uact=$t
        sleep 0.5
    done
    stop_soft "$UAC"
    wait_idle 60 || log "ivr: calls still up after 60 s"
    c1=$(ticks "$CPID"); t2=$(now_ms); b1=$(box_busy); u1=$(ticks "$UAS")
    stop_soft "$UAS"
    sleep 1
    local uac_ok uas_ok
    uac_ok=$(calls_ok "$D/uac.csv" "$calls" "$WORK/data/bench.db" "$t0")
    uas_ok=$(calls_ok "$D/uas.csv" "$calls" "$WORK/data/bench.db" "$t0")
    read -r ncdr nmedia cpk clost epk elost lossy _ _ <<<"$(cdr_media "$WORK/data/bench.db" "$t0")"
    local row
    row=$(awk -v n="$calls" -v rate="$IVR_RATE" -v uok="$uac_ok" -v sok="$uas_ok" -v hz="$HZ" \
        -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t2="$t2" -v b0="$b0" -v b1="$b1" -v u0="$u0" \
        -v u1="$u1" -v uact="$uact" -v maxf="$MAX_FAIL_PCT" -v pk="$((cpk + epk))" \
        -v lost="$((clost + elost))" -v lossy="$lossy" 'BEGIN {
            fail = 100 * (n - uok) / n; efail = 100 * (n - sok) / n; worst = (fail > efail) ? fail : efail
            w = (t2 - t0) / 1000
            ms = (uok > 0) ? (c1 - c0) * 1000 / hz / uok : 0
            core = 100 * (c1 - c0) / hz / w
            sipp = 100 * (uact + u1 - u0) / hz / w
            other = 100 * (b1 - b0) / hz / w - core - sipp; if (other < 0) other = 0
            ok = (worst < maxf && ms <= 1.5 && lost == 0)
            printf "ivr|%d|%d|%d|%.3f|%d/s|%.1f|%.3f ms|%.0f|%.0f|%.0f|-|%d|%d|%d|-|%s\n", n, uok, sok, worst,
                rate, w, ms, core, sipp, other, pk, lost, lossy, ok ? "pass" : "FAIL"
        }')
    ROWS+=("$row")
    echo "$row" >&2
    IFS='|' read -r _ _ _ _ worst _ _ ms _ _ _ _ pk lost _ _ verdict <<<"$row"
    RUNS[ivr]+="${ms% ms} "
    SUMMARIES+=("SUMMARY ivr: $IVR_RATE calls/s x ${IVR_SECS} s, failed $worst %, Centrala $ms per call (target <= 1.5 ms), RTP $pk packets received, $lost lost: $verdict")
}

# Graceful shutdown under load: CALLS_SHUTDOWN calls up, then SIGTERM.
run_shutdown() {
    local n=$CALLS_SHUTDOWN D="$WORK/shutdown" act=0 t0 ts te up i
    mkdir -p "$D"
    log "shutdown: $n concurrent calls, then SIGTERM with drain_secs = $SHUTDOWN_DRAIN"
    DRAIN_SECS=$SHUTDOWN_DRAIN fresh_centrala never
    start_uas "$D"
    t0=$(now_ms)
    start_uac "$D" media_uac.xml 2000 "$RAMP_RATE" "$n" "$n" 600000
    for ((i = 0; i < (n / RAMP_RATE + 60) * 2; i++)); do
        act=$(metric centrala_active_calls); act=${act%.*}
        [ "${act:-0}" -ge "$n" ] && break
        sleep 0.5
    done
    up=${act:-0}
    sleep 2
    ts=$(now_ms)
    kill -TERM "$CPID"
    wait_exit "$CPID" $((SHUTDOWN_DRAIN + 120)) || log "shutdown: still running 120 s after the drain"
    te=$(now_ms)
    wait "$CPID" 2>/dev/null
    local rc=$?
    stop_soft "$UAC"
    stop_soft "$UAS"
    read -r ncdr _ <<<"$(cdr_media "$WORK/data/bench.db" "$t0")"
    local secs verdict
    secs=$(awk -v a="$ts" -v b="$te" 'BEGIN {printf "%.2f", (b - a) / 1000}')
    verdict=$(awk -v s="$secs" -v d="$SHUTDOWN_DRAIN" -v c="$ncdr" -v n="$n" -v up="$up" \
        'BEGIN {print (s <= d + 5 && c >= n && up >= n) ? "pass" : "FAIL"}')
    ROWS+=("shutdown|$n|-|-|-|$up up|$secs s to exit|-|-|-|-|-|-|-|-|-|$verdict (exit $rc, $ncdr CDRs)")
    RUNS[shutdown]+="$secs "
    SUMMARIES+=("SUMMARY shutdown: $up calls up, SIGTERM with drain_secs = $SHUTDOWN_DRAIN: exited after $secs s (target <= $((SHUTDOWN_DRAIN + 5)) s), exit status $rc, $ncdr CDRs written of $n: $verdict")
}

ROWS=()
declare -A RUNS
for mode in "${MODES[@]}"; do
    for ((run = 1; run <= REPEAT; run++)); do
        case $mode in
        relay) run_concurrent relay "$CALLS_RELAY" media_uac.xml never 0.07 ;;
        recording) run_concurrent recording "$CALLS_RECORDING" media_uac.xml always 0.12 ;;
        transcode) run_concurrent transcode "$CALLS_TRANSCODE" media_uac_opus.xml never 100 ;;
        ivr) run_ivr ;;
        shutdown) run_shutdown ;;
        esac
        sleep 2
    done
done

echo
echo "Centrala media benchmark: $(machine); $("$BIN" --version 2>/dev/null | head -1)"
echo "${CALL_SECS}-s calls set up at $RAMP_RATE/s; SIPp streams 20 ms PCMU (Opus for transcode) on both sides; $BUF_NOTE"
echo
echo "| mode | calls | caller ok | callee ok | worst fail % | calls up (mean) or rate | steady s | Centrala CPU % of a core per call (ivr: per call) | Centrala % of a core | SIPp % | other % | KiB per call | RTP packets received | lost | calls with loss | kernel drops | verdict |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
echo
for s in "${SUMMARIES[@]}"; do echo "$s"; done
declare -A UNIT=([relay]="% of a core per call" [recording]="% of a core per call"
    [transcode]="% of a core per call" [ivr]="ms Centrala CPU per call" [shutdown]="s from SIGTERM to exit")
for mode in "${!RUNS[@]}"; do
    echo "REPEATED $mode (${UNIT[$mode]}): $(tr ' ' '\n' <<<"${RUNS[$mode]}" | grep . | spread)"
done
echo "targets: relay >= 1000 calls at <= 0.07 % of a core per call; recording >= 600 adding <= 0.05 % per call (recording minus relay); transcode >= 300; ivr >= 400 calls/s at <= 1.5 ms per call; no RTP loss, < 0.1 % failed, < 64 KiB per bridged call"
