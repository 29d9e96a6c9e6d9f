#!/usr/bin/env bash
# Registration with IPsec vs without, in one run: ringload registers UES XOR-SIM UEs
# (REGISTER -> 401 -> REGISTER -> 200, AKAv1-MD5) against a fresh release ringcore (1
# worker pinned to CPU 1; ringload pinned to CPU 0) at RATE per second, once plain, once
# with --ipsec aes-cbc/hmac-sha-1-96 and once with --ipsec null/hmac-md5-96 (sec-agree,
# UDP-encapsulated ESP, the authenticated REGISTER and its 200 over the new SAs). Reported
# per mode and repetition: registrations achieved per second, the initial-registration
# latency ringload measures from the intended send time (p50/p99, HdrHistogram), the CPU
# seconds ringcore used (from /proc, all threads) and registrations per ringcore
# core-second, ringload's CPU per registration, and the core's ESP packet counters.
# usage: [UES=5000] [REPS=1] perf/ipsec_reg_load.sh [RATE]
set -uo pipefail
cd "$(dirname "$0")/.."
source perf/ringload_ue_db.sh
UES=${UES:-5000}; REPS=${REPS:-1}; RATE=${1:-2000}
OUT=$(pwd)/perf/out/ipsec-reg-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
cargo build --release --quiet --bin ringcore --bin ringload || exit 1
PORT=5270; METRICS=5279
{
    echo "{ sip_addr: { addr: \"127.0.0.1:$PORT\", port_min: 40000, port_max: 40999 }, domain: \"ims.test\","
    echo "  log_options: \"all.level=error\", engine: { workers: 1, cpus: [1] }, metrics_addr: \"127.0.0.1:$METRICS\","
    echo "  ipsec_port: 5272, ipsec_aalg_list: [\"hmac-sha-1-96\", \"hmac-md5-96\"], ipsec_ealg_list: [\"aes-cbc\", \"null\"],"
    echo "  ue_db: ["
    ringload_ue_db "$UES"
    echo '] }'
} > "$OUT/ringcore.cfg"
CP=
trap '[ -n "$CP" ] && kill "$CP" 2>/dev/null' EXIT
cpu_s() {  # utime + stime of process $1 in seconds
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}
run() {  # label extra-args...
    local label=$1; shift
    taskset -c 1 target/release/ringcore "$OUT/ringcore.cfg" --no-monitor > "$OUT/ringcore_${label}_$rep.log" 2>&1 < /dev/null &
    CP=$!
    sleep 1.5
    kill -0 "$CP" 2>/dev/null || { echo "ringcore did not start (port $PORT in use?):"; cat "$OUT/ringcore_${label}_$rep.log"; exit 1; }
    local c0; c0=$(cpu_s "$CP")
    taskset -c 0 timeout 300 target/release/ringload --target 127.0.0.1:$PORT --domain ims.test --ues "$UES" \
        --reg-rate "$RATE" --no-dereg --cpus 0 --quiet "$@" --report-json "$OUT/${label}_$rep.json" > "$OUT/${label}_$rep.txt" 2>&1
    local c1; c1=$(cpu_s "$CP")
    local esp; esp=$(curl -s -m 3 "http://127.0.0.1:$METRICS/metrics" | awk '/^ringcore_esp_(rx|tx)_packets_total/ {sub(/ringcore_esp_/,""); sub(/_packets_total\{\}/,""); printf "%s=%s ", $1, $2}')
    kill "$CP"; wait "$CP" 2>/dev/null; CP=
    python3 - "$OUT/${label}_$rep.json" "$label" "$c0" "$c1" "$esp" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
v = json.load(open(sys.argv[1])); label = sys.argv[2]
ph = [p for p in v["phases"] if p["action"] == "register"][0]
a = v["actions"]["register"]; h = v["histograms"]["initial_register"]
core = float(sys.argv[4]) - float(sys.argv[3]); ok = a["succeeded"]
print(f"{label:<22} ok={ok} fail={a['failed']} achieved={ok / ph['elapsed_s']:.0f}/s "
      f"p50_ms={h.get('p50_us', 0) / 1000:.3f} p99_ms={h.get('p99_us', 0) / 1000:.3f} "
      f"core_cpu_s={core:.2f} regs_per_core_s={ok / core if core else 0:.0f} "
      f"ringload_us_per_reg={1e6 * ph['cpu_s'] / ok if ok else 0:.0f} {sys.argv[5]}")
PY
}
echo "UES=$UES RATE=$RATE REPS=$REPS -> $OUT" | tee "$OUT/summary.txt"
for rep in $(seq 1 "$REPS"); do
    run plain
    run ipsec-aes-cbc-sha1 --ipsec aes-cbc/hmac-sha-1-96
    run ipsec-null-md5 --ipsec null/hmac-md5-96
done
