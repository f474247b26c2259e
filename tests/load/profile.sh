#!/usr/bin/env bash
# Where a scenario's server spends its CPU: `perf record` of the load-server process (all
# its threads) while wrk drives it, then the top symbols as nanoseconds of server CPU per
# request (samples / frequency / requests), so two scenarios compare directly.
#
#   bash tests/load/profile.sh cached            # after tests/load/run.sh has built the binary
#   bash tests/load/profile.sh unprotected 8s 40
#   bash tests/load/profile.sh unprotected+token   # the unprotected server, sent the token anyway
#
# Arguments: scenario, wrk duration (8s), how many symbols (40). Needs perf; with
# CALLGRAPH=1 it records DWARF call graphs (larger data) and prints callers too.
set -euo pipefail

# As in run.sh: with NICE set, a session (so an autogroup) of its own with that nice.
if [[ "${NICE:-0}" != 0 && -z "${LOAD_OWN_SESSION:-}" ]]; then
    LOAD_OWN_SESSION=1 exec setsid --wait bash "$0" "$@"
fi
if [[ "${NICE:-0}" != 0 && -w /proc/self/autogroup ]]; then
    echo "${NICE}" >/proc/self/autogroup
fi

here="$(cd "$(dirname "$0")" && pwd)"
s="${1:?scenario}"
DURATION="${2:-8s}"
TOP="${3:-40}"
FREQ="${FREQ:-4999}"
CONNS="${CONNS:-32}"
NICE="${NICE:-0}"
BIN="$here/target/release/load-server"
out_dir="$here/target/profile"
mkdir -p "$out_dir"

taskset -c 0 nice -n "$NICE" "$BIN" "${s%+token}" >"$out_dir/$s.server" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    grep -q '^url=' "$out_dir/$s.server" && break
    sleep 0.1
done
line="$(grep -m1 '^url=' "$out_dir/$s.server")"
url="$(sed -E 's/^url=([^ ]+) .*/\1/' <<<"$line")"
token="$(sed -E 's/.* token=(.*)$/\1/' <<<"$line")"
args=(-t1 "-c$CONNS")
case "$s" in
    unprotected | axum-unprotected) ;;
    *) args+=(-H "Authorization: Bearer $token") ;; # `unprotected+token`: the header, no check
esac

taskset -c 1 nice -n "$NICE" wrk "${args[@]}" -d2s "$url" >/dev/null
graph=()
[[ "${CALLGRAPH:-0}" == 1 ]] && graph=(--call-graph dwarf,16384)
taskset -c 1 nice -n "$NICE" wrk "${args[@]}" "-d$DURATION" "$url" >"$out_dir/$s.wrk" &
wrk_pid=$!
perf record -q -F "$FREQ" "${graph[@]}" -p "$pid" -o "$out_dir/$s.perf.data" -- sleep "${DURATION%s}" 2>/dev/null
wait "$wrk_pid"
grep -q 'Non-2xx\|Socket errors' "$out_dir/$s.wrk" && { cat "$out_dir/$s.wrk"; echo "INVALID run" >&2; exit 1; }
requests="$(awk '/requests in/ {print $1}' "$out_dir/$s.wrk")"
rps="$(awk '/^Requests\/sec:/ {print $2}' "$out_dir/$s.wrk")"
samples="$(perf report -i "$out_dir/$s.perf.data" --stdio -n --sort dso -g none 2>/dev/null |
    awk '/%/ && !/^#/ { n += $2 } END { print n }')"
echo "$s: $rps req/s, $requests requests, ${samples} samples at $FREQ Hz"
awk -v s="$samples" -v f="$FREQ" -v n="$requests" \
    'BEGIN { printf "server CPU sampled: %.0f ns/request\n", s / f * 1e9 / n }'
echo "by DSO (ns/request):"
perf report -i "$out_dir/$s.perf.data" --stdio -n --no-children --sort dso -g none 2>/dev/null |
    awk -v f="$FREQ" -v n="$requests" \
        '/%/ && !/^#/ { printf "  %7.0f  %s\n", $2 / f * 1e9 / n, $3 }'
echo "top symbols (ns/request, % of server samples):"
perf report -i "$out_dir/$s.perf.data" --stdio -n --no-children --sort sym -g none 2>/dev/null |
    awk -v f="$FREQ" -v n="$requests" -v top="$TOP" \
        '/%/ && !/^#/ && c < top { p = $1; k = $2; $1 = ""; $2 = ""; printf "  %7.0f  %7s %s\n", k / f * 1e9 / n, p, substr($0, 3, 150); c++ }'
