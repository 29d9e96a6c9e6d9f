#!/usr/bin/env bash
# REGISTER -> 200 latency from a kernel-timestamped packet capture (SIPp's own RTD has 1 ms
# resolution): Kamailio (MD5) and ringcore (MD5 and AKAv1-MD5) at the same fixed rate, in one
# run, with the users, configs and scenarios perf/register_load.sh prepared in DIR.
# usage: perf/register_latency.sh DIR [RATE=4000] [SECS=10]
set -uo pipefail  # not -e: the anchor helpers (common.sh) are not written for it
cd "$(dirname "$0")/.."
D=$(cd "$1" && pwd); R=${2:-4000}; SECS=${3:-10}; N=$((R * SECS)); ROOT=$(pwd)
source "$D/anchors/common.sh"
ANALYZE="$D/anchors/5-latency-pcap/analyze.py"
MD5_ARGS=(127.0.0.1:5070 -sf "$D/anchors/1-registrar/reg_auth_uac.xml" -inf "$D/anchors/1-registrar/users.csv"
          -i 127.0.0.1 -p 5061 -t u1 -l 10000 -recv_timeout 5000 -buff_size 4194304 -default_behaviors all,-bye -nostdin)
AKA_ARGS=(127.0.0.1:5070 -sf "$D/reg_aka.xml" -inf "$D/aka.csv" -key expires 3600
          -i 127.0.0.1 -p 5061 -t u1 -l 10000 -recv_timeout 5000 -buff_size 4194304 -default_behaviors all,-bye -nostdin)

capture() {  # label sipp-args...
    local label=$1; shift
    dumpcap -q -P -i lo -f "udp port 5070" -w "$D/$label.pcap" > /dev/null 2>&1 &
    local cap=$!; sleep 1.5
    timeout $((SECS + 60)) sipp "$@" -r "$R" -m "$N" -timeout $((SECS + 40)) > "$D/$label.sipp.log" 2>&1 || true
    sleep 0.5; stop_pid $cap
    echo "$label rate=$R: $(python3 "$ANALYZE" reg "$D/$label.pcap" 5070 | tr '\n' ' ')" | tee -a "$D/latency.txt"
}

cd "$D/anchors/1-registrar"
kamailio -f kamailio-registrar.cfg -DD -E -P "$D/kam.pid" > "$D/kamailio-lat.log" 2>&1 < /dev/null &
KP=$!; cd "$ROOT"; sleep 1.5
timeout 60 sipp "${MD5_ARGS[@]}" -r 2000 -m 10000 -timeout 40 > /dev/null 2>&1 || true
capture kamailio-md5 "${MD5_ARGS[@]}"
stop_pid $KP; sleep 1
target/release/ringcore "$D/ringcore.cfg" --no-monitor > "$D/ringcore-lat.log" 2>&1 < /dev/null &
RP=$!; sleep 2
timeout 60 sipp "${MD5_ARGS[@]}" -r 2000 -m 10000 -timeout 40 > /dev/null 2>&1 || true
capture ringcore-md5 "${MD5_ARGS[@]}"
capture ringcore-aka "${AKA_ARGS[@]}"
stop_pid $RP
