#!/usr/bin/env bash
# ringload against SIPp as load generators: the same call scenario (INVITE with an SDP offer
# -> 180 -> 200 -> ACK -> BYE -> 200, no media, hold 0) through the same ringcore (a B2BUA,
# 1 worker pinned to CPU 1) to a registered callee, in one run. SIPp: the anchor's UAC
# (uac_call_rr.xml) and registered UAS (uas_rr.xml), two processes. ringload: UE i calls
# UE i + UES/2 (both ends emulated in one process, after registering UES XOR-SIM UEs with
# AKAv1-MD5), on io_uring (--io-uring), on epoll (--epoll, ringload's default), and with --epoll
# --shared-socket (one socket for all UEs, as SIPp -t u1), the latter also with --batch-us 1000
# (sockets read at most once a millisecond). The generators are pinned
# to CPU 0, ringcore to CPU 1. Reported per rate: calls per
# load-generator core-second (SIPp: UAC + UAS CPU; ringload: its CPU during the call phase)
# and the INVITE -> 200 latency each one measures (SIPp: 1 ms resolution; ringload: from
# the intended send time, HdrHistogram).
# usage: [DUR=10] [REPS=2] [UES=2000] perf/ringload_vs_sipp.sh RATE...
set -uo pipefail  # not -e: the anchor helpers (common.sh) are not written for it
cd "$(dirname "$0")/.."
source perf/ringload_ue_db.sh
DUR=${DUR:-10}; REPS=${REPS:-2}; UES=${UES:-2000}; RATES=${*:-"500 1000 2000"}
# perf/anchors_env.sh expects the anchors at ../shared (the main checkout); from a worktree
# set SHARED to the folder holding anchors/ (default /work/shared when ../shared is absent).
SHARED=${SHARED:-../shared}; [ -d "$SHARED/anchors" ] || SHARED=/work/shared
if [ "$(cd "$SHARED" && pwd)" = "$(cd .. && pwd)/shared" ]; then
    source perf/anchors_env.sh ringload-vs-sipp
else
    OUT=$(pwd)/perf/out/ringload-vs-sipp-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
    ANCH=$OUT/anchors; cp -r "$SHARED/anchors" "$ANCH"; source "$ANCH/common.sh"; RESULTS=$OUT
    cargo build --release --quiet --bin ringcore
fi
cargo build --release --quiet --bin ringload
{
    echo '{ sip_addr: { addr: "127.0.0.1:5170", port_min: 40000, port_max: 49999 }, domain: "ims.test",'
    echo '  log_options: "all.level=error", engine: { workers: 1, cpus: [1] }, ue_db: ['
    echo '  { imsi: "001010000000001", impi: "uac@ims.test", authent_type: "none", impu: ["sip:uac"] },'
    echo '  { imsi: "001010000000002", impi: "uas@ims.test", authent_type: "none", impu: ["sip:uas"] },'
    ringload_ue_db "$UES"
    echo '] }'
} > "$OUT/ringcore.cfg"
sed 's/5090/5190/' "$ANCH/2-proxy/reg_uas.xml" > "$OUT/reg_uas.xml"
SIPP_ARGS=(127.0.0.1:5170 -sf "$ANCH/2-proxy/uac_call_rr.xml" -i 127.0.0.1 -p 5161 -t u1 -buff_size 4194304 -l 20000 -recv_timeout 5000)
CP=; UP=
trap 'stop_pid $UP; stop_pid $CP' EXIT

# A fresh ringcore and registered SIPp UAS for every rate and repetition (ringcore's
# call resources are not what is measured here).
start_target() {  # tag
    taskset -c 1 target/release/ringcore "$OUT/ringcore.cfg" --no-monitor > "$OUT/ringcore_$1.log" 2>&1 < /dev/null &
    CP=$!
    taskset -c 0 timeout $((DUR * 3 + 90)) sipp -sf "$ANCH/2-proxy/uas_rr.xml" -i 127.0.0.1 -p 5190 -t u1 -buff_size 4194304 \
        -nostdin -timeout $((DUR * 3 + 80)) > "$OUT/uas_$1.log" 2>&1 < /dev/null &
    UP=$!
    sleep 1.5
    kill -0 $CP 2>/dev/null || { echo "ringcore did not start (port 5170 in use?):"; cat "$OUT/ringcore_$1.log"; exit 1; }
    timeout 20 sipp 127.0.0.1:5170 -sf "$OUT/reg_uas.xml" -i 127.0.0.1 -p 5162 -m 1 -nostdin -timeout 10 > "$OUT/reg_uas_$1.log" 2>&1
}

run_ringload() {  # label rate n extra-args...
    local label=$1 R=$2 N=$3; shift 3
    taskset -c 0 timeout $((DUR + 120)) target/release/ringload --target 127.0.0.1:5170 --domain ims.test --ues "$UES" \
        --reg-rate 2000 --ue-calls "$N" --rate "$R" --hold 0 --cpus 0 --quiet "$@" \
        --report-json "$OUT/${label}_r${R}_$rep.json" --plot "$OUT/${label}_r${R}_$rep.svg" > "$OUT/${label}_r${R}_$rep.txt" 2>&1
    python3 - "$OUT/${label}_r${R}_$rep.json" "$R" "$label" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
v = json.load(open(sys.argv[1])); r = sys.argv[2]
ph = [p for p in v["phases"] if p["action"] == "ue_call"][0]
c = v["actions"]["ue_call"]; h = v["histograms"]["invite_to_200"]
cpu = ph["cpu_s"]; ok = c["succeeded"]
print(f"{sys.argv[3]} rate={r} ok={ok} fail={c['failed']} achieved={ok / ph['elapsed_s']:.0f} gen_cpu={100 * cpu / ph['elapsed_s']:.0f}% "
      f"calls_per_gen_core_s={ok / cpu if cpu else 0:.0f} invite200_p50_ms={h.get('p50_us', 0) / 1000:.3f} p99_ms={h.get('p99_us', 0) / 1000:.3f}")
PY
}

for rep in $(seq 1 "$REPS"); do
    for R in $RATES; do
        N=$((R * DUR))
        start_target "r${R}_$rep"
        # SIPp UAC (CPU from /usr/bin/time) + UAS (CPU from /proc), as % of one core.
        line=$(taskset -c 0 bash -c "source '$ANCH/common.sh'; sipp_measure '$OUT/sipp_r${R}_$rep' $R $N 'uas:$UP server:$CP' -- ${SIPP_ARGS[*]}")
        echo "sipp $line" >> "$OUT/raw.txt"
        echo "$line" | awk -v r="$R" '{
            for (i=1;i<=NF;i++) { split($i,kv,"="); v[kv[1]]=kv[2] }
            a=v["achieved"]; sub("/s","",a); u=v["uas_cpu"]; sub("%","",u); c=v["sipp_cpu"]; sub("%","",c); s=v["server_cpu"]; sub("%","",s)
            match($0, /p50=[0-9.]+/); p50=substr($0,RSTART+4,RLENGTH-4); match($0, /p99=[0-9.]+/); p99=substr($0,RSTART+4,RLENGTH-4)
            printf "sipp rate=%s ok=%s fail=%s achieved=%s gen_cpu=%s%% calls_per_gen_core_s=%.0f server_cpu=%s%% invite200_p50_ms=%s p99_ms=%s\n", r, v["ok"], v["fail"], a, u+c, a/((u+c)/100), s, p50, p99
        }' | tee -a "$OUT/summary.txt"
        sleep 2
        # ringload on io_uring, then on epoll (its default).
        run_ringload ringload "$R" "$N" --io-uring
        sleep 2
        run_ringload ringload-epoll "$R" "$N" --epoll
        sleep 2
        run_ringload ringload-epoll-shared "$R" "$N" --epoll --shared-socket
        sleep 2
        # Reading sockets at most once a millisecond (SIPp's default timer resolution).
        run_ringload ringload-epoll-shared-batch1ms "$R" "$N" --epoll --shared-socket --batch-us 1000
        stop_pid $UP; stop_pid $CP; sleep 1
    done
done
# Medians over the repetitions, per generator and rate.
awk '{ g=$1; for (i=2;i<=NF;i++) { split($i,kv,"="); v[kv[1]]=kv[2] } k=g" "v["rate"]; n[k]++; c[k,n[k]]=v["calls_per_gen_core_s"]+0; line[k,n[k]]=$0 }
     END { for (k in n) { m=n[k]; for(i=1;i<=m;i++) for(j=i+1;j<=m;j++) if (c[k,j]<c[k,i]) { t=c[k,i]; c[k,i]=c[k,j]; c[k,j]=t; t=line[k,i]; line[k,i]=line[k,j]; line[k,j]=t }
       print "MEDIAN " line[k, int((m+1)/2)] " (runs " m ")" } }' "$OUT/summary.txt" | sort -k2,2 -k3,3V | tee -a "$OUT/summary.txt"
echo "# details: $OUT"
