#!/usr/bin/env bash
# RTP echoed per worker core, against the raw UDP ceiling, in one run.
#
# Side by side on this machine, interleaved REPS times:
#   raw   : the anchor C echo server (recvmmsg/sendmmsg, batch 64) pinned to CPU 1
#   uring : ringcore, 1 worker pinned to CPU 1, io_uring backend, one call to the echo IMPU
#   epoll : the same with the epoll backend
# One generator (perf/sip_blast.rs in `rtp` mode, pinned to CPU 0) keeps WINDOW RTP packets
# (172 bytes: PCMU 20 ms) in flight and counts the packets that come back. ringcore's echo
# checks the RTP header and source, counts the packet and sends it back from the worker.
# usage: [SECS=10] [REPS=3] [WINDOW=256] [BATCH=32] perf/rtp_echo_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-10}; REPS=${REPS:-3}; WINDOW=${WINDOW:-256}; BATCH=${BATCH:-32}
ANCHORS=${ANCHORS:-../shared/anchors}
OUT=perf/out/rtp-echo-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
cargo build --release --quiet --bin ringcore --example sip_blast
gcc -O2 -Wall -o "$OUT/echo_server" "$ANCHORS/4-udp-echo/echo_server.c"
BLAST=target/release/examples/sip_blast
PORT=5098; RAWPORT=5097; MPORT=40100

source perf/ratio_lib.sh
ECHO_SERVER=$OUT/echo_server
core_cfgs 'echo: [ "sip:echo" ],'

run_core() {  # backend rep
    target/release/ringcore "$OUT/$1.cfg" --no-monitor > "$OUT/$1.$2.log" 2>&1 < /dev/null &
    local sp=$!; sleep 1
    local media; media=$(python3 perf/echo_call.py 127.0.0.1:$PORT $MPORT)
    taskset -c 0 "$BLAST" "$media" "$SECS" "$WINDOW" "$BATCH" rtp 127.0.0.1:$MPORT | sed "s/^/$1 rep=$2 /" | tee -a "$OUT/summary.txt"
    kill $sp; wait $sp 2>/dev/null || true
}
for rep in $(seq 1 "$REPS"); do run_raw "$rep" $RAWPORT rtp; run_core uring "$rep"; run_core epoll "$rep"; done

report "$OUT/summary.txt" "$REPS"
