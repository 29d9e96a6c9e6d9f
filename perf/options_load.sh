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

cfg() {  # backend
    cat > "$OUT/$1.cfg" <<CFG
{
  sip_addr: "127.0.0.1:$PORT",
  domain: "ims.mnc001.mcc001.3gppnetwork.org",
  log_options: "all.level=error",
  engine: { backend: "$1", workers: 1, cpus: [1] },
}
CFG
}
cfg uring; cfg epoll

run_raw() {
    taskset -c 1 "$OUT/echo_server" $PORT 64 $((SECS + 2)) > "$OUT/raw.$1.server" 2>&1 &
    local sp=$!; sleep 0.3
    taskset -c 0 "$BLAST" 127.0.0.1:$PORT "$SECS" "$WINDOW" "$BATCH" | sed "s/^/raw rep=$1 /" | tee -a "$OUT/summary.txt"
    wait $sp || true
}
run_core() {  # backend rep
    target/release/ringcore "$OUT/$1.cfg" > "$OUT/$1.$2.log" 2>&1 &
    local sp=$!; sleep 1
    taskset -c 0 "$BLAST" 127.0.0.1:$PORT "$SECS" "$WINDOW" "$BATCH" | sed "s/^/$1 rep=$2 /" | tee -a "$OUT/summary.txt"
    kill $sp; wait $sp 2>/dev/null || true
}
for rep in $(seq 1 "$REPS"); do run_raw "$rep"; run_core uring "$rep"; run_core epoll "$rep"; done

median() { grep "^$1 " "$OUT/summary.txt" | grep -o 'reply_rate=[0-9]*' | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
# Ratio per repetition (each backend against the raw echo of the same repetition, so slow
# drift of the machine cancels out), then the median over repetitions.
rep_ratio_median() {  # backend
    for rep in $(seq 1 "$REPS"); do
        r=$(grep "^raw rep=$rep " "$OUT/summary.txt" | grep -o 'reply_rate=[0-9]*' | cut -d= -f2)
        b=$(grep "^$1 rep=$rep " "$OUT/summary.txt" | grep -o 'reply_rate=[0-9]*' | cut -d= -f2)
        awk -v r="$r" -v b="$b" 'BEGIN{printf "%.3f\n", b/r}'
    done | sort -n | awk '{a[NR]=$1} END{printf "%.2f (runs: %s..%s)", a[int((NR+1)/2)], a[1], a[NR]}'
}
raw=$(median raw); ur=$(median uring); ep=$(median epoll)
{
  echo "MEDIAN raw_echo=${raw}/s ringcore_uring=${ur}/s ringcore_epoll=${ep}/s"
  echo "RATIO (median of per-repetition ratios) uring/raw=$(rep_ratio_median uring) epoll/raw=$(rep_ratio_median epoll)"
} | tee -a "$OUT/summary.txt"
echo "# details: $OUT"
