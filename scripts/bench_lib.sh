# Shared helpers of the benchmark scripts (sourced, not run). The sourcing script sets BIN,
# HTTP_PORT and optionally KEEP before calling them; everything started is stopped by PID at
# exit, the work directory is removed unless KEEP=1, and raised kernel buffers are restored.

BUF=$((16 * 1024 * 1024))
HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/centrala-bench.XXXXXX)
PIDS=()
OLD_RMEM=$(sysctl -n net.core.rmem_max 2>/dev/null || echo "")
OLD_WMEM=$(sysctl -n net.core.wmem_max 2>/dev/null || echo "")
SYSCTL_SET=0
SIPP_COMMON=(-i 127.0.0.1 -mi 127.0.0.1 -nostdin -buff_size "$BUF")

bench_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.5
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    if [ "$SYSCTL_SET" = 1 ]; then
        sysctl -qw net.core.rmem_max="$OLD_RMEM" net.core.wmem_max="$OLD_WMEM" 2>/dev/null
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[bench] $*" >&2; }

require_tools() { # require_tools: the binary, sipp and curl are there
    [ -x "$BIN" ] || { echo "no centrala binary at $BIN (build with cargo build --release)" >&2; exit 2; }
    command -v sipp >/dev/null || { echo "sipp not found (apt-get install sip-tester)" >&2; exit 2; }
    command -v curl >/dev/null || { echo "curl not found" >&2; exit 2; }
}

# Raises the UDP buffer maximum to BUF for the run (restored at exit) and the open-files limit;
# sets BUF_NOTE to what was done.
raise_limits() {
    BUF_NOTE="net.core.rmem_max=$OLD_RMEM (not raised)"
    if [ -n "$OLD_RMEM" ] && [ "$OLD_RMEM" -lt "$BUF" ]; then
        if sysctl -qw net.core.rmem_max="$BUF" net.core.wmem_max="$BUF" 2>/dev/null; then
            SYSCTL_SET=1
            BUF_NOTE="net.core.rmem_max raised to $BUF for the run"
        else
            BUF_NOTE="net.core.rmem_max=$OLD_RMEM: could not raise it (not permitted here)"
        fi
    elif [ -n "$OLD_RMEM" ]; then
        BUF_NOTE="net.core.rmem_max=$OLD_RMEM (already large enough)"
    fi
    log "$BUF_NOTE"
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    log "open files limit: $(ulimit -n)"
}

ticks() { # utime+stime of a PID, in clock ticks (fields 14 and 15 of /proc/PID/stat)
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }   # drop "pid (comm) " (comm may contain spaces)
    set -- $s
    echo $(( ${12} + ${13} ))
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
metrics() { curl -s --max-time 2 "http://127.0.0.1:$HTTP_PORT/metrics"; }
metric() { # metric NAME_WITH_LABELS  (first matching sample, 0 if absent)
    metrics | awk -v m="$1" '$1 == m {print $2; found=1; exit} END {if (!found) print 0}'
}
# Last value of a named column in a SIPp -trace_stat CSV (';'-separated, header first).
csv_col() {
    awk -F';' -v c="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == c) k = i; next}
                          {v = $k} END {print (k && v != "") ? v : 0}' "$1" 2>/dev/null || echo 0
}
now_ms() { date +%s%3N; }
# spread: the numbers on stdin (one per line) as "median M (min A, max B, N runs)".
spread() {
    sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) {print "no runs"; exit}
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "median %g (min %g, max %g, %d runs)", m, v[1], v[NR], NR }'
}
box_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }  # all CPUs, ticks
wait_exit() { # wait_exit PID SECONDS -> 0 when it exited
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}
wait_idle() { # wait_idle SECONDS: until Centrala's active calls are back to 0
    local i act
    for ((i = 0; i < $1 * 10; i++)); do
        act=$(metric centrala_active_calls); act=${act%.*}
        [ "${act:-1}" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# base_config: the loopback [sip], [http] and [media] settings every benchmark's config starts
# with (the script sets SIP_PORT, HTTP_PORT, RTP_MIN and RTP_MAX); more [media] keys may follow.
# E-mail intake is off: a benchmark must not hold the demo's shared SMTP port.
base_config() {
    cat <<EOF
[email]
enabled = false
[sip]
listen = "127.0.0.1:$SIP_PORT"
no_answer_timeout_secs = 30
[sip.ban]
max_failures = 1000000
[http]
listen = "127.0.0.1:$HTTP_PORT"
[media]
bind_ip = "127.0.0.1"
rtp_port_min = $RTP_MIN
rtp_port_max = $RTP_MAX
EOF
}

# Starts Centrala on WORK/bench.toml (the caller writes it) and waits until it is healthy;
# sets CPID.
start_centrala() {
    mkdir -p "$WORK/data"
    (cd "$WORK" && RUST_LOG=${RUST_LOG:-warn} exec "$BIN" serve --config "$WORK/bench.toml" \
        >"$WORK/centrala.out" 2>"$WORK/centrala.log") &
    CPID=$!
    PIDS+=("$CPID")
    for _ in $(seq 100); do
        curl -sf --max-time 1 "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null && break
        kill -0 "$CPID" 2>/dev/null || { log "centrala exited:"; tail -20 "$WORK/centrala.log" >&2; exit 1; }
        sleep 0.1
    done
    curl -sf --max-time 1 "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null \
        || { log "centrala did not become healthy"; tail -20 "$WORK/centrala.log" >&2; exit 1; }
    log "centrala $("$BIN" --version 2>/dev/null | head -1) pid $CPID, work dir $WORK"
}

machine() { echo "$(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"; }

# --- helpers added for scripts/bench_media.sh (usable by the others) ----------------------------

# register_users CSV SIP_PORT FROM_PORT CONTROL_PORT: REGISTERs every user of the SIPp -inf CSV
# (benches/sipp/register.xml, one line per user after "SEQUENTIAL") from FROM_PORT, so that
# calls to them reach the SIPp UAS later bound there; exits the script if any fails.
register_users() {
    local n
    n=$(($(wc -l <"$1") - 1))
    sipp "127.0.0.1:$2" -sf "$ROOT/benches/sipp/register.xml" -inf "$1" \
        "${SIPP_COMMON[@]}" -p "$3" -cp "$4" -m "$n" -r 200 -timeout 60s \
        -trace_err -error_file "$WORK/register_err.log" >"$WORK/register.out" 2>&1
    local rc=$?
    [ "$rc" = 0 ] || { log "REGISTER of $n users failed (sipp exit $rc)"; tail -20 "$WORK/register_err.log" >&2; exit 1; }
    log "$n users registered at 127.0.0.1:$3"
}

# stop_soft PID: SIGUSR1 (SIPp: finish the calls in progress, dump statistics, exit), then TERM
# after 10 s.
stop_soft() {
    kill -USR1 "$1" 2>/dev/null
    wait_exit "$1" 10 || kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# cdr_media DB SINCE_MS: the media quality of the CDRs started at or after SINCE_MS (the
# packets and losses Centrala counted per side, RFC 3550 A.3), one line:
# "cdrs with_media caller_packets caller_lost callee_packets callee_lost calls_with_loss
#  min_caller_packets min_callee_packets" (needs python3).
cdr_media() {
    python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute(
    "SELECT caller_packets, caller_lost, callee_packets, callee_lost FROM cdrs"
    " WHERE started_at_ms >= ?", (int(sys.argv[2]),)).fetchall()
media = [[v or 0 for v in r] for r in rows if r[0] is not None]
tot = [sum(r[i] for r in media) for i in range(4)]
lossy = sum(1 for r in media if r[1] > 0 or r[3] > 0)
low = lambda i: min((r[i] for r in media), default=0)
print(len(rows), len(media), *tot, lossy, low(0), low(2))
PY
}

# sipp_finished CSV N: sipp_done, or SIPp's statistics stopped (the CSV not written for 10 s:
# SIPp 3.6 with rtp_stream can hang on its way out before its last dump) while Centrala has no
# call up any more.
sipp_finished() {
    sipp_done "$1" "$2" && return 0
    local age act
    age=$(($(date +%s) - $(stat -c %Y "$1" 2>/dev/null || date +%s)))
    act=$(metric centrala_active_calls); act=${act%.*}
    [ "$age" -ge 10 ] && [ "${act:-1}" = 0 ]
}

# calls_ok CSV N DB SINCE_MS: the calls SIPp counted successful; when its statistics stopped
# short of N finished calls (see sipp_finished), the calls Centrala's CDRs since SINCE_MS show
# answered and ended by a BYE (normal clearing) instead, said on stderr.
calls_ok() {
    if sipp_done "$1" "$2"; then
        csv_col "$1" "SuccessfulCall(C)"
        return
    fi
    log "$(basename "$(dirname "$1")"): SIPp's statistics stopped before its last calls; calls counted from the CDRs"
    sqlite3 "$3" "SELECT count(*) FROM cdrs WHERE started_at_ms >= $4 AND answered_at_ms IS NOT NULL AND hangup_cause = 'normal_clearing'"
}

# sipp_done CSV N: true once SIPp's -trace_stat CSV counts N finished calls (successful +
# failed). SIPp 3.6 with rtp_stream may not exit after its last call, so the media benchmark
# waits for this and then stops it.
sipp_done() {
    local ok fail
    ok=$(csv_col "$1" "SuccessfulCall(C)")
    fail=$(csv_col "$1" "FailedCall(C)")
    [ $((ok + fail)) -ge "$2" ]
}
