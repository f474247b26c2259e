#!/usr/bin/env bash
# HTTP load benchmark: the same GET route unprotected, behind mcp-oauth (cache hit, cache
# off) on actix-web, and unprotected / behind oauth-resource-server on axum.
#
#   bash tests/load/run.sh            # build release, all scenarios back to back, ROUNDS times
#
# Each server runs on one thread pinned to core 0 (taskset -c 0); wrk (one thread,
# CONNS connections) is pinned to core 1. A run is invalid (and the script fails) if wrk
# saw any non-2xx response or socket error, if the route does not answer 200 with the
# token, or if a protected route does not answer 401 without it.
# Scenarios: see src/bin/load-server.rs, plus the control `unprotected+token` (below).
# Environment: ROUNDS (2), DURATION (10s), WARMUP (3s), CONNS (32), SCENARIOS, SKIP_BUILD=1,
# NICE (0; e.g. -15 to favour the benchmark over other builds on a shared machine: needs root).
set -euo pipefail

# Linux autogroups: `nice` only orders processes within one session's autogroup, so with
# NICE set the benchmark runs in a session of its own whose autogroup gets that nice.
if [[ "${NICE:-0}" != 0 && -z "${LOAD_OWN_SESSION:-}" ]]; then
    LOAD_OWN_SESSION=1 exec setsid --wait bash "$0" "$@"
fi
if [[ "${NICE:-0}" != 0 && -w /proc/self/autogroup ]]; then
    echo "${NICE}" >/proc/self/autogroup
fi

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

ROUNDS="${ROUNDS:-2}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
CONNS="${CONNS:-32}"
# Priority of the server and wrk over other work on the shared cores (0: none).
NICE="${NICE:-0}"
# `unprotected+token` is a control: the unprotected server, with wrk sending the same
# Authorization header as for the protected ones (what the header's bytes alone cost).
SCENARIOS="${SCENARIOS:-unprotected cached cached-limited uncached axum-unprotected ors unprotected+token}"
LOGS="$here/target/load-logs"
mkdir -p "$LOGS"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
command -v taskset >/dev/null || { echo "taskset is missing (util-linux)" >&2; exit 1; }

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --bin load-server
fi
BIN="$here/target/release/load-server"
# What was measured: the crate is built from the working tree of ../../mcp-oauth.
echo "mcp-oauth at $(git -C "$here/../.." rev-parse --short HEAD)$(git -C "$here/../.." status --porcelain -- mcp-oauth | grep -q . && echo ' + uncommitted changes in mcp-oauth/'); $(date -u +%FT%TZ); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

fail() {
    echo "INVALID: $*" >&2
    if [[ -n "$server_pid" ]]; then
        echo "server $server_pid: $(kill -0 "$server_pid" 2>&1 && echo running); stderr:" >&2
        cat "$out.err" >&2 || true
    fi
    exit 1
}

# status [curl args] <url>: the HTTP status, or curl's error.
status() {
    curl -sS -o /dev/null -w '%{http_code}' "$@" 2>&1 || true
}

# wrk_check <log>: the log's requests/s, or failure if any response was not 2xx or any
# socket error happened.
wrk_check() {
    local log="$1"
    if grep -q 'Non-2xx or 3xx responses' "$log"; then
        fail "$(grep 'Non-2xx' "$log") in $log"
    fi
    if grep -q 'Socket errors' "$log"; then
        fail "$(grep 'Socket errors' "$log") in $log"
    fi
    awk '/^Requests\/sec:/ {print $2}' "$log"
}

declare -A rps cpu util
HZ="$(getconf CLK_TCK)"

median() { # median <numbers...>
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a" } else if (NR % 2) { print v[(NR + 1) / 2] }
        else { printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# cpu_ticks <pid>: user + system clock ticks of the process, all threads.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

for round in $(seq 1 "$ROUNDS"); do
    for s in $SCENARIOS; do
        out="$LOGS/$s.$round.server"
        taskset -c 0 nice -n "$NICE" "$BIN" "${s%+token}" >"$out" 2>"$out.err" &
        server_pid=$!
        line=""
        for _ in $(seq 1 300); do
            line="$(grep -m1 '^url=' "$out" || true)"
            [[ -n "$line" ]] && break
            kill -0 "$server_pid" 2>/dev/null || fail "$s: the server exited: $(cat "$out.err")"
            sleep 0.1
        done
        [[ -n "$line" ]] || fail "$s: the server did not start"
        url="$(sed -E 's/^url=([^ ]+) .*/\1/' <<<"$line")"
        token="$(sed -E 's/.* token=(.*)$/\1/' <<<"$line")"

        args=(-t1 "-c$CONNS")
        case "$s" in
            unprotected | axum-unprotected) ;;
            *+token) args+=(-H "Authorization: Bearer $token") ;;
            *)
                args+=(-H "Authorization: Bearer $token")
                code="$(status "$url")"
                [[ "$code" == 401 ]] || fail "$s: no token answered $code, not 401"
                ;;
        esac
        code="$(status "${args[@]:2}" "$url")"
        [[ "$code" == 200 ]] || fail "$s: answered $code, not 200"

        taskset -c 1 nice -n "$NICE" wrk "${args[@]}" "-d$WARMUP" "$url" >"$LOGS/$s.$round.warmup" 2>&1
        wrk_check "$LOGS/$s.$round.warmup" >/dev/null
        ticks_before="$(cpu_ticks "$server_pid")"
        TIMEFORMAT='%U %S'
        wrk_cpu="$({ time taskset -c 1 nice -n "$NICE" wrk "${args[@]}" "-d$DURATION" --latency "$url" \
            >"$LOGS/$s.$round.wrk" 2>&1; } 2>&1)"
        ticks_after="$(cpu_ticks "$server_pid")"
        r="$(wrk_check "$LOGS/$s.$round.wrk")"
        [[ -n "$r" ]] || fail "$s: no Requests/sec in $LOGS/$s.$round.wrk"
        rps["$s,$round"]="$r"
        requests="$(awk '/requests in/ {print $1}' "$LOGS/$s.$round.wrk")"
        # Server CPU (user + system, all threads) per request, in microseconds.
        cpu["$s,$round"]="$(awk -v t="$((ticks_after - ticks_before))" -v hz="$HZ" -v n="$requests" \
            'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
        secs="$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$LOGS/$s.$round.wrk")"
        # Share of a core used during the run: the server's (core 0) and wrk's (core 1).
        server_util="$(awk -v t="$((ticks_after - ticks_before))" -v hz="$HZ" -v d="$secs" \
            'BEGIN { printf "%.0f%%", t / hz / d * 100 }')"
        wrk_util="$(awk -v u="${wrk_cpu% *}" -v s="${wrk_cpu#* }" -v d="$secs" \
            'BEGIN { printf "%.0f%%", (u + s) / d * 100 }')"
        util["$s,$round"]="$server_util/$wrk_util"
        p50="$(awk '$1 == "50%" {print $2}' "$LOGS/$s.$round.wrk")"
        p99="$(awk '$1 == "99%" {print $2}' "$LOGS/$s.$round.wrk")"
        printf '%-17s round %s: %10s req/s  %6s us CPU/req  server/wrk CPU %-9s p50 %-8s p99 %-8s load %s\n' \
            "$s" "$round" "$r" "${cpu[$s,$round]}" "${util[$s,$round]}" "$p50" "$p99" \
            "$(cut -d' ' -f1-3 /proc/loadavg)"

        kill "$server_pid"
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    done
done

echo
echo "wrk -t1 -c$CONNS -d$DURATION (after a $WARMUP warm-up); server on core 0, one thread; wrk on core 1"
echo
header="| scenario |"
rule="|---|"
for round in $(seq 1 "$ROUNDS"); do
    header+=" round $round req/s |"
    rule+="---:|"
done
((ROUNDS > 1)) && header+=" median |" && rule+="---:|"
echo "$header"
echo "$rule"
for s in $SCENARIOS; do
    row="| $s |"
    values=()
    for round in $(seq 1 "$ROUNDS"); do
        row+=" ${rps[$s,$round]:-} |"
        values+=("${rps[$s,$round]:-}")
    done
    ((ROUNDS > 1)) && row+=" $(median "${values[@]}") |"
    echo "$row"
done

echo
echo "Server CPU per request (user + system, us; less sensitive to other load on core 0),"
echo "and the share of a core the server / wrk used (a server under ~90% was not the bottleneck:"
echo "its req/s then measures the machine, not the server; such ratios are marked *):"
echo
header="| scenario |"
rule="|---|"
for round in $(seq 1 "$ROUNDS"); do
    header+=" round $round us/req | server/wrk CPU |"
    rule+="---:|---:|"
done
((ROUNDS > 1)) && header+=" median us/req |" && rule+="---:|"
echo "$header"
echo "$rule"
for s in $SCENARIOS; do
    row="| $s |"
    values=()
    for round in $(seq 1 "$ROUNDS"); do
        row+=" ${cpu[$s,$round]:-} | ${util[$s,$round]:-} |"
        values+=("${cpu[$s,$round]:-}")
    done
    ((ROUNDS > 1)) && row+=" $(median "${values[@]}") |"
    echo "$row"
done

# saturated <scenario> <round>: did the server use >= 90% of its core?
saturated() {
    local u="${util[$1,$2]:-0%/0%}"
    u="${u%%%*}"
    ((u >= 90))
}

ratio() { # ratio <array> <a> <b> <round>: a / b for req/s, b / a for CPU per request
    local -n values="$1"
    local a="${values[$2,$4]:-}" b="${values[$3,$4]:-}"
    if [[ -n "$a" && -n "$b" ]]; then
        if [[ "$1" == cpu ]]; then
            awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }'
        else
            awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }'
        fi
    else
        printf 'n/a'
    fi
}

echo
echo "Ratios of throughput: req/s a / req/s b, and (in brackets) from CPU per request, b / a:"
echo
header="| ratio | target |"
rule="|---|---|"
for round in $(seq 1 "$ROUNDS"); do
    header+=" round $round |"
    rule+="---:|"
done
if ((ROUNDS > 1)); then
    header+=" median |"
    rule+="---:|"
fi
echo "$header"
echo "$rule"
for spec in \
    "cached unprotected >=0.85" \
    "cached unprotected+token -" \
    "cached-limited cached >=0.97" \
    "uncached unprotected -" \
    "cached ors >=2" \
    "uncached ors -" \
    "ors axum-unprotected -" \
    "axum-unprotected unprotected -"; do
    read -r a b target <<<"$spec"
    row="| $a / $b | $target |"
    rps_ratios=() cpu_ratios=()
    for round in $(seq 1 "$ROUNDS"); do
        mark=""
        saturated "$a" "$round" && saturated "$b" "$round" || mark="*"
        rps_ratios+=("$(ratio rps "$a" "$b" "$round")")
        cpu_ratios+=("$(ratio cpu "$a" "$b" "$round")")
        row+=" ${rps_ratios[-1]}$mark (${cpu_ratios[-1]}) |"
    done
    if ((ROUNDS > 1)); then
        row+=" $(median "${rps_ratios[@]}") ($(median "${cpu_ratios[@]}")) |"
    fi
    echo "$row"
done
