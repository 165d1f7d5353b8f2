#!/bin/bash
# run.sh - start mxshield, load it with mxshield-bench, print a markdown table.
#
# Builds nothing: expects build/mxshield and build/mxshield-bench (make all).
# The daemon serves bench/bench.conf if that file exists, else its default
# configuration, on inet:127.0.0.1:10023 and on a unix socket (fixed
# triplets are measured over both).  Environment:
#   MXSHIELD_BENCH_DAEMON  the daemon binary (default build/mxshield)
#   MXSHIELD_BENCH_PORT  listen on this loopback port instead
#   BENCH_SECONDS        seconds per run (default 5; runs: 3 modes x 3 sizes)
#   BENCH_CONNS          connection counts (default "1 8 64")
#   BENCH_WARMUP         warm-up requests per run, not measured (default 1000)
# The JSON line of every run is kept in build/bench-results.jsonl.  Exit 1
# when a run fails or reports errors.
set -u
cd "$(dirname "$0")/.." || exit 1

DAEMON=${MXSHIELD_BENCH_DAEMON:-build/mxshield}
BENCH=build/mxshield-bench
PORT=${MXSHIELD_BENCH_PORT:-10023}
SECONDS_EACH=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-1 8 64}
WARMUP=${BENCH_WARMUP:-1000}
TARGET=inet:127.0.0.1:$PORT
RESULTS=build/bench-results.jsonl

for f in "$DAEMON" "$BENCH"; do
    [ -x "$f" ] || { echo "run.sh: $f not found; run make first" >&2; exit 1; }
done

# port_open - true when something accepts connections on the port
port_open() {
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
}
if port_open; then
    echo "run.sh: 127.0.0.1:$PORT is already in use; set MXSHIELD_BENCH_PORT" >&2
    exit 1
fi

TMP=$(mktemp -d /tmp/mxshield-bench.XXXXXX) || exit 1
DPID=
cleanup() {
    if [ -n "$DPID" ]; then
        kill "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The configuration: bench/bench.conf, else the embedded default, with the
# listeners replaced by loopback TCP and a unix socket (later settings
# override earlier ones).
if [ -f bench/bench.conf ]; then
    cat bench/bench.conf > "$TMP/bench.conf"
else
    "$DAEMON" config > "$TMP/bench.conf" || exit 1
fi
UNIX_TARGET=unix:$TMP/policy.sock
echo "listen = $TARGET, $UNIX_TARGET" >> "$TMP/bench.conf"
# its database in the temporary directory, never the system's
echo "data_directory = $TMP/data" >> "$TMP/bench.conf"
CONF=$TMP/bench.conf

# Start the daemon (its log goes to a file) and wait until it accepts.
"$DAEMON" serve -c "$CONF" > "$TMP/daemon.log" 2>&1 &
DPID=$!
tries=0
until port_open; do
    if ! kill -0 "$DPID" 2>/dev/null || [ $tries -ge 100 ]; then
        echo "run.sh: mxshield did not start listening on $TARGET; its log:" >&2
        tail -20 "$TMP/daemon.log" >&2
        exit 1
    fi
    tries=$((tries + 1))
    sleep 0.1
done

# json_field - one numeric field of a one-line JSON object
json_field() {
    printf '%s\n' "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"
}

: > "$RESULTS"
status=0
echo "mxshield-bench: $DAEMON on $TARGET, $(uname -sr), $(nproc) CPUs, ${SECONDS_EACH}s per run, ${WARMUP} warm-up requests"
echo
echo "| socket | mode | conns | req/s | p50 (us) | p99 (us) | max (us) | errors |"
echo "|--------|------|------:|------:|---------:|---------:|---------:|-------:|"
# run_one SOCKET-LABEL TARGET MODE CONNS - one row of the table
run_one() {
    out=$("$BENCH" -d "$SECONDS_EACH" -c "$4" -m "$3" -w "$WARMUP" --json "$2")
    rc=$?
    if [ -z "$out" ]; then
        echo "| $1 | $3 | $4 | failed (exit $rc) | | | | |"
        status=1
        return
    fi
    printf '%s\n' "$out" >> "$RESULTS"
    [ $rc -eq 0 ] || status=1
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$3" "$4" \
        "$(json_field "$out" rps)" "$(json_field "$out" p50_us)" \
        "$(json_field "$out" p99_us)" "$(json_field "$out" max_us)" \
        "$(json_field "$out" errors)"
}
for mode in fixed unique mixed; do
    for c in $CONNS; do
        run_one tcp "$TARGET" "$mode" "$c"
    done
done
for c in $CONNS; do
    run_one unix "$UNIX_TARGET" fixed "$c"
done

# The machine's ceiling: the same load against a server that answers
# DUNNO without parsing anything (build/mxshield-ceiling).
CEIL=build/mxshield-ceiling
if [ -x "$CEIL" ]; then
    CPORT=$((PORT + 1))
    "$CEIL" "$CPORT" & C1=$!
    "$CEIL" "$TMP/ceiling.sock" & C2=$!
    sleep 0.3
    run_one "tcp, ceiling" "inet:127.0.0.1:$CPORT" fixed 8
    run_one "unix, ceiling" "unix:$TMP/ceiling.sock" fixed 8
    kill $C1 $C2 2>/dev/null
    wait $C1 $C2 2>/dev/null
fi
if ! kill -0 "$DPID" 2>/dev/null; then
    echo "run.sh: mxshield exited during the benchmark; its log:" >&2
    tail -20 "$TMP/daemon.log" >&2
    status=1
fi
exit $status
