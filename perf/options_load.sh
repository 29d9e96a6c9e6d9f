#!/usr/bin/env bash
# OPTIONS answered per worker core, against the raw UDP ceiling, in one run.
#
# Side by side on this machine, interleaved REPS times:
#   raw   : the anchor C echo server (recvmmsg/sendmmsg, batch 64) pinned to CPU 1
#   uring : ringcore, 1 worker pinned to CPU 1, io_uring backend
#   epoll : ringcore, 1 worker pinned to CPU 1, epoll backend
# The same generator (perf/sip_blast.rs, pinned to CPU 0) sends SIP OPTIONS to each and
# counts replies; ringcore answers each with a 200 OK, the echo returns the bytes.
# usage: [SECS=10] [REPS=3] [WINDOW=256] [BATCH=32] perf/options_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-10}; REPS=${REPS:-3}; WINDOW=${WINDOW:-256}; BATCH=${BATCH:-32}
ANCHORS=${ANCHORS:-../shared/anchors}
OUT=perf/out/options-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
cargo build --release --quiet --bin ringcore --example sip_blast
gcc -O2 -Wall -o "$OUT/echo_server" "$ANCHORS/4-udp-echo/echo_server.c"
BLAST=target/release/examples/sip_blast
PORT=5099

source perf/ratio_lib.sh
ECHO_SERVER=$OUT/echo_server
core_cfgs ""

run_core() {  # backend rep
    target/release/ringcore "$OUT/$1.cfg" > "$OUT/$1.$2.log" 2>&1 &
    local sp=$!; sleep 1
    taskset -c 0 "$BLAST" 127.0.0.1:$PORT "$SECS" "$WINDOW" "$BATCH" | sed "s/^/$1 rep=$2 /" | tee -a "$OUT/summary.txt"
    kill $sp; wait $sp 2>/dev/null || true
}
for rep in $(seq 1 "$REPS"); do run_raw "$rep" $PORT; run_core uring "$rep"; run_core epoll "$rep"; done

report "$OUT/summary.txt" "$REPS"
