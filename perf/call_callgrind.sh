#!/usr/bin/env bash
# Instructions per relayed call, per thread and function: ringcore (epoll backend, as the
# io_uring completions are invisible to valgrind) under callgrind while the anchor's SIPp
# UAC places N calls at RATE/s through it to the SIPp UAS (the call_load.sh scenario).
# Counting starts after the callee's registration (callgrind_control -z).
# usage: [PORT_BASE=5070] perf/call_callgrind.sh [N=2000] [RATE=200] [BIN=target/release/ringcore]
# then: callgrind_annotate --inclusive=yes perf/out/callgrind-*/cg.out.1 | grep -E "TOTALS|Control::run \[|worker::run \["
set -u
cd "$(dirname "$0")/.."
N=${1:-2000}; R=${2:-200}; BIN=$(realpath "${3:-target/release/ringcore}")
PB=${PORT_BASE:-5070}  # core SIP port; SIPp UAS PB+20, UAC PB+91, registration PB+192
ANCH=$(pwd)/../shared/anchors; [ -d "$ANCH" ] || ANCH=/work/shared/anchors
O=$(pwd)/perf/out/callgrind-$(date +%Y%m%d-%H%M%S); mkdir -p "$O"; cd "$O"
cat > core.cfg <<CFG
{
  sip_addr: { addr: "127.0.0.1:$PB", port_min: $((PB * 4)), port_max: $((PB * 4 + 999)) },
  domain: "ims.test",
  log_options: "all.level=error",
  engine: { workers: 1 },
  ue_db: [
    { imsi: "001010000000001", impi: "uac@ims.test", authent_type: "none", impu: ["sip:uac"] },
    { imsi: "001010000000002", impi: "uas@ims.test", authent_type: "none", impu: ["sip:uas"] },
  ],
}
CFG
sed "s/127.0.0.1:5090/127.0.0.1:$((PB + 20))/" "$ANCH/2-proxy/reg_uas.xml" > reg_uas.xml
timeout 600 sipp -sf "$ANCH/2-proxy/uas_rr.xml" -i 127.0.0.1 -p $((PB + 20)) -t u1 -nostdin -timeout 500 > uas.log 2>&1 < /dev/null &
UP=$!
RINGCORE_FORCE_EPOLL=1 valgrind --tool=callgrind --callgrind-out-file=cg.out --dump-instr=no "$BIN" core.cfg --no-monitor > core.log 2>&1 < /dev/null &
SP=$!; sleep 8
timeout 30 sipp 127.0.0.1:$PB -sf reg_uas.xml -i 127.0.0.1 -p $((PB + 192)) -m 1 -nostdin -timeout 20 > reg.log 2>&1
sleep 1
callgrind_control -z $SP > /dev/null 2>&1
timeout 500 sipp 127.0.0.1:$PB -sf "$ANCH/2-proxy/uac_call_rr.xml" -i 127.0.0.1 -p $((PB + 91)) -t u1 -l 2000 \
    -recv_timeout 10000 -r "$R" -m "$N" -nostdin -timeout 400 > screen.log 2>&1
callgrind_control -d $SP > /dev/null 2>&1
sleep 1
kill $SP $UP; wait $SP 2> /dev/null
grep -E "Successful call|Failed call" screen.log | tail -2
echo "# profile: $O/cg.out.1 ($N calls)"
