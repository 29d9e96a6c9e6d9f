#!/usr/bin/env bash
# Call set-up latency from a kernel-timestamped packet capture: Kamailio (stateful proxy) and
# ringcore (B2BUA, media anchored) at the same fixed rate, in one run, with the configs and
# scenarios perf/call_load.sh prepared in DIR. "setup" is the caller's INVITE arriving at the
# server -> the 200 leaving it towards the caller (so it includes the SIPp UAS's answer time,
# the same for both); ringcore's B leg has its own Call-ID, so only the caller-side pairs count.
# WARM=S first places S seconds of calls at RATE, not captured, on the same server process:
# without it the capture includes a fresh process's first calls (first touches of its tables
# and heaps), which make ringcore's p99.9 and maximum.
# Each server gets its own fresh SIPp UAS, as it gets its own UAC: "setup" includes the UAS's
# answer time, and a UAS that has already served earlier servers answers the first INVITEs
# after an idle gap later (measured: 3.6, 6.6 and 17 ms for its 1st, 2nd and 3rd server), which
# made the p99.9 depend on a server's place in the run.
# usage: [WARM=0] perf/call_latency.sh DIR [RATE=1000] [SECS=10]
set -uo pipefail  # not -e: the anchor helpers (common.sh) are not written for it
cd "$(dirname "$0")/.."
D=$(cd "$1" && pwd); R=${2:-1000}; SECS=${3:-10}; N=$((R * SECS)); ROOT=$(pwd)
source "$D/anchors/common.sh"
ANALYZE="$D/anchors/5-latency-pcap/analyze.py"
SIPP_ARGS=(127.0.0.1:5070 -sf "$D/anchors/2-proxy/uac_call_rr.xml" -i 127.0.0.1 -p 5061 -t u1 -buff_size 4194304
           -l 20000 -recv_timeout 5000 -nostdin)
UP=""
trap '[ -n "$UP" ] && stop_pid $UP' EXIT

capture() {  # label
    dumpcap -q -P -i lo -f "udp port 5070" -w "$D/$1.pcap" > /dev/null 2>&1 &
    local cap=$!; sleep 1.5
    timeout $((SECS + 60)) sipp "${SIPP_ARGS[@]}" -r "$R" -m "$N" -timeout $((SECS + 40)) > "$D/$1.sipp.log" 2>&1 || true
    sleep 0.5; stop_pid $cap
    echo "$1 rate=$R: $(python3 "$ANALYZE" call "$D/$1.pcap" 5070 | grep -i setup | tr '\n' ' ')" | tee -a "$D/latency.txt"
}
serve() {  # label start-cmd...
    local label=$1; shift
    timeout $((SECS + ${WARM:-0} + 120)) sipp -sf "$D/anchors/2-proxy/uas_rr.xml" -i 127.0.0.1 -p 5090 -t u1 \
        -buff_size 4194304 -nostdin -timeout $((SECS + ${WARM:-0} + 100)) > "$D/uas-$label.log" 2>&1 < /dev/null &
    UP=$!
    "$@" > "$D/$label-lat.log" 2>&1 < /dev/null &
    SP=$!; sleep 1.5
    timeout 20 sipp 127.0.0.1:5070 -sf "$D/anchors/2-proxy/reg_uas.xml" -i 127.0.0.1 -p 5062 -m 1 -nostdin -timeout 10 > /dev/null 2>&1
    if [ "${WARM:-0}" -gt 0 ]; then  # unmeasured calls first: the capture sees the steady state
        timeout $((WARM + 60)) sipp "${SIPP_ARGS[@]}" -r "$R" -m $((R * WARM)) -timeout $((WARM + 40)) > "$D/$label.warm.log" 2>&1 || true
        sleep 2
    fi
    capture "$label"
    stop_pid $SP; stop_pid $UP; UP=""; sleep 1
}
serve kamailio-proxy kamailio -f "$D/anchors/2-proxy/kamailio-proxy.cfg" -DD -E -P "$D/kam-lat.pid"
pkill -f kamailio-proxy.cfg || true
serve ringcore-b2bua target/release/ringcore "$D/ringcore.cfg" --no-monitor
