#!/usr/bin/env bash
# Calls per server core-second: ringcore as a B2BUA (media anchored: SDP rewritten, relay ports
# opened and closed per call) against Kamailio 5.6 as a stateful proxy (the anchor's
# kamailio-proxy.cfg, Record-Route), same SIPp UAC (INVITE -> 180 -> 200 -> ACK -> BYE -> 200)
# and SIPp UAS, in one run. Server CPU is read from /proc for the whole process tree twice:
# the anchor's utime+stime ticks (server_cpu, calls_per_core_s) and schedstat's exact run
# time of every thread (sched_cpu, sched_calls_per_core_s; see tree_run_ns).
# usage: [DUR=10] [REPS=3] [WARM=0] [BASE_BIN=path/to/older/ringcore] perf/call_load.sh RATE...
# WARM=S first runs S seconds of calls at the same rate against the same server process,
# unmeasured (steady state: tables, buffer pools and heaps already touched; both servers).
# BASE_BIN adds a third server, an older ringcore build (label ringcore-base), to each rep
# for before/after comparisons in the same run.
# SERVER_CPUS=LIST starts every server under `taskset -c LIST` (all its threads and processes
# confined to those CPUs, e.g. SERVER_CPUS=1 puts ringcore's control thread on its worker's
# CPU and all Kamailio children on the same one CPU).
# GEN_CPUS=LIST runs both SIPp processes (UAC and UAS) under `taskset -c LIST` for every
# server alike (e.g. GEN_CPUS=0: the load generators stay off the worker's CPU 1).
set -uo pipefail  # not -e: the anchor helpers (common.sh) are not written for it
cd "$(dirname "$0")/.."
DUR=${DUR:-10}; REPS=${REPS:-3}; RATES=${*:-"500 1000 2000"}
source perf/anchors_env.sh calls
if [ -n "${GEN_CPUS:-}" ]; then  # a `sipp` first on PATH that pins the real one
    mkdir -p "$OUT/bin"
    printf '#!/bin/sh\nexec taskset -c %s %s "$@"\n' "$GEN_CPUS" "$(command -v sipp)" > "$OUT/bin/sipp"
    chmod +x "$OUT/bin/sipp"; PATH="$OUT/bin:$PATH"
fi
cat > "$OUT/ringcore.cfg" <<CFG
{
  sip_addr: { addr: "127.0.0.1:5070", port_min: 30000, port_max: 39999 },
  domain: "ims.test",
  log_options: "all.level=error",
  engine: { workers: 1, cpus: [1] },
  ue_db: [
    { imsi: "001010000000001", impi: "uac@ims.test", authent_type: "none", impu: ["sip:uac"] },
    { imsi: "001010000000002", impi: "uas@ims.test", authent_type: "none", impu: ["sip:uas"] },
  ],
}
CFG
UAS_LIFE=$(( $(echo $RATES | wc -w) * REPS * (DUR + ${WARM:-0} + 12) * 3 + 60 ))
timeout $((UAS_LIFE + 10)) sipp -sf "$ANCH/2-proxy/uas_rr.xml" -i 127.0.0.1 -p 5090 -t u1 -buff_size 4194304 -nostdin \
    -timeout $UAS_LIFE > "$OUT/uas.log" 2>&1 < /dev/null &
UP=$!
trap 'stop_pid $UP' EXIT
SIPP_ARGS=(127.0.0.1:5070 -sf "$ANCH/2-proxy/uac_call_rr.xml" -i 127.0.0.1 -p 5161 -t u1 -buff_size 4194304 -l 20000 -recv_timeout 5000)

# Nanoseconds on a CPU (schedstat's sum_exec_runtime) of every thread of a PID and of its
# direct children: the same process tree as the anchor's tick count (`tree_ticks`), but
# exact instead of sampled at the 250 Hz tick, so a light, bursty server (ringcore at
# 10-20% of a core) is not measured with a tick's sampling noise.
tree_run_ns() {
    local p f t=0 a rest
    for p in $1 $(ps -o pid= --ppid "$1" 2>/dev/null); do
        for f in /proc/$p/task/*/schedstat; do
            read -r a rest < "$f" 2>/dev/null && t=$((t + a))
        done
    done
    echo $t
}

run_server() {  # label start-cmd...
    local label=$1; shift
    if [ -n "${SERVER_CPUS:-}" ]; then set -- taskset -c "$SERVER_CPUS" "$@"; fi
    "$@" > "$OUT/$label.log" 2>&1 < /dev/null &
    SP=$!; sleep 1.5
    timeout 20 sipp 127.0.0.1:5070 -sf "$ANCH/2-proxy/reg_uas.xml" -i 127.0.0.1 -p 5262 -m 1 -nostdin -timeout 10 > "$OUT/reg_$label.log" 2>&1
    for R in $RATES; do
        if [ "${WARM:-0}" -gt 0 ]; then  # unmeasured warm-up at the same rate, same server process
            sipp_measure "$OUT/${label}_r${R}_${rep}_warm" "$R" $((R * WARM)) "server:$SP" -- "${SIPP_ARGS[@]}" > /dev/null
            sleep 2
        fi
        local n0 n1 w0 w1
        n0=$(tree_run_ns "$SP"); w0=$(date +%s.%N)
        sipp_measure "$OUT/${label}_r${R}_$rep" "$R" $((R * DUR)) "server:$SP" -- "${SIPP_ARGS[@]}" > "$OUT/line.tmp"
        n1=$(tree_run_ns "$SP"); w1=$(date +%s.%N)
        sed "s/^/$label /; s/ sipp_cpu=/ sched_cpu=$(awk -v d=$((n1 - n0)) -v a=$w0 -v b=$w1 'BEGIN{printf "%.2f", 100*d/1e9/(b-a)}')% sipp_cpu=/" "$OUT/line.tmp" | tee -a "$OUT/summary.txt"
        sleep 5
    done
    stop_pid $SP; sleep 1
}
for rep in $(seq 1 "$REPS"); do
    (cd "$ANCH/2-proxy" && true)
    run_server kamailio-proxy kamailio -f "$ANCH/2-proxy/kamailio-proxy.cfg" -DD -E -P "$OUT/kam.pid"
    pkill -f kamailio-proxy.cfg || true
    run_server ringcore-b2bua target/release/ringcore "$OUT/ringcore.cfg" --no-monitor
    if [ -n "${BASE_BIN:-}" ]; then
        run_server ringcore-base "$BASE_BIN" "$OUT/ringcore.cfg" --no-monitor
    fi
done
awk '{
  lab=$1; r=""; a=""; c=""; e="";
  for (i=2;i<=NF;i++) { split($i,kv,"="); if (kv[1]=="rate") r=kv[2]; if (kv[1]=="achieved") { a=kv[2]; sub("/s","",a) } if (kv[1]=="server_cpu") { c=kv[2]; sub("%","",c) } if (kv[1]=="sched_cpu") { e=kv[2]; sub("%","",e) } if (kv[1]=="fail") f=kv[2] }
  if (r!="" && c>0 && e>0) print lab, r, a, c, a/(c/100), f, e, a/(e/100)
}' "$OUT/summary.txt" | sort -k1,1 -k2,2n -k5,5n > "$OUT/per_core.txt"
# Two medians per server and rate: by the anchor's tick count (calls_per_core_s) and by
# schedstat's exact run time (sched_calls_per_core_s), each the median of its own column.
awk '{k=$1" "$2; v[k]=v[k]" "$5; s[k]=s[k]" "$8; n[k]++; a[k]=a[k]" "$3; c[k]=c[k]" "$4; f[k]=f[k]" "$6}
     function med(list, m,  x, i, j, t, cnt){cnt=split(list,x," "); for(i=1;i<=cnt;i++)for(j=i+1;j<=cnt;j++)if(x[j]+0<x[i]+0){t=x[i];x[i]=x[j];x[j]=t} return x[m]}
     END{for (k in v){m=int((n[k]+1)/2);
       printf "MEDIAN %s achieved/s=%s server_cpu%%=%s calls_per_core_s=%.0f sched_calls_per_core_s=%.0f fail=%s (runs %d)\n", k, med(a[k],m), med(c[k],m), med(v[k],m), med(s[k],m), med(f[k],m), n[k]}}' "$OUT/per_core.txt" | sort | tee -a "$OUT/summary.txt"
echo "# details: $OUT"
