#!/usr/bin/env bash
# Registrations per server core-second: ringcore (MD5 and AKAv1-MD5) against Kamailio 5.6
# (MD5 registrar, auth_db on SQLite, 2 children), driven by SIPp in the same run.
#
# Kamailio and ringcore (MD5) run the very same SIPp scenario and user set (the anchor's
# reg_auth_uac.xml: REGISTER -> 401 -> REGISTER with digest qop=auth -> 200, 10,000 users);
# ringcore AKA runs tests/sipp/reg_aka.xml with 10,000 Milenage users. For every run the CPU
# time of the server process (all threads) and of SIPp is read from /proc, so
#   registrations per server core-second = successful registrations / server CPU seconds.
# Latency percentiles come from SIPp's RTD (1 ms resolution) and, for ringcore, from a
# packet capture (REGISTER -> 200, microseconds) at half rate.
# usage: [DUR=10] [REPS=3] perf/register_load.sh RATE...
set -uo pipefail  # not -e: the anchor helpers (common.sh) are not written for it
cd "$(dirname "$0")/.."
DUR=${DUR:-10}; REPS=${REPS:-3}; RATES=${*:-"2000 4000 6000"}
source perf/anchors_env.sh register

# --- users ---------------------------------------------------------------------------
( cd "$ANCH/1-registrar" && ./make_users.sh 10000 >/dev/null )
sed -i "s#sqlite:///[^\"]*subscriber.sqlite#sqlite://$ANCH/1-registrar/subscriber.sqlite#" "$ANCH/1-registrar/kamailio-registrar.cfg"
K=112233445566778899aabbccddeeff11; OP=a1a2a3a4a5a6a7a8a9aaabacadaeafb1
{
  echo "ue_db: ["
  for i in $(seq -f '%07g' 1 10000); do
    echo "{ imsi: \"0010120$i\", impi: \"user$i\", pwd: \"pw$i\", authent_qop: \"auth\", impu: [\"sip:user$i\"] },"
    echo "{ sim_algo: \"miln\", imsi: \"0010130$i\", K: \"$K\", op: \"$OP\", amf: 32769, impi: \"0010130$i@ims.test\", impu: [\"sip:0010130$i\"] },"
  done
  echo "]"
} > "$OUT/users.cfg"
{ echo "SEQUENTIAL"; for i in $(seq -f '%07g' 1 10000); do
    echo "0010130$i;0010130$i@ims.test;[authentication username=0010130$i@ims.test aka_K=0x$K aka_OP=0x$OP aka_AMF=0x8001]"; done; } > "$OUT/aka.csv"
sed 's/ims.mnc001.mcc001.3gppnetwork.org/ims.test/g' tests/sipp/reg_aka.xml > "$OUT/reg_aka.xml"
cat > "$OUT/ringcore.cfg" <<CFG
{
  sip_addr: "127.0.0.1:5070",
  domain: "ims.test",
  log_options: "all.level=error",
  binding_expires: 3600,
  engine: { workers: 1, cpus: [1] },
  include "users.cfg",
}
CFG

MD5_ARGS=(127.0.0.1:5070 -sf "$ANCH/1-registrar/reg_auth_uac.xml" -inf "$ANCH/1-registrar/users.csv"
          -i 127.0.0.1 -p 5061 -t u1 -l 10000 -recv_timeout 5000 -buff_size 4194304 -default_behaviors all,-bye)
AKA_ARGS=(127.0.0.1:5070 -sf "$OUT/reg_aka.xml" -inf "$OUT/aka.csv" -key expires 3600
          -i 127.0.0.1 -p 5061 -t u1 -l 10000 -recv_timeout 5000 -buff_size 4194304 -default_behaviors all,-bye)

start_kamailio() {  # sets KP
    cd "$ANCH/1-registrar"
    kamailio -f kamailio-registrar.cfg -DD -E -P "$OUT/kam.pid" > "$OUT/kamailio.log" 2>&1 < /dev/null &
    KP=$!
    cd "$ROOT"; sleep 1.5
}
start_ringcore() {  # sets RP
    target/release/ringcore "$OUT/ringcore.cfg" --no-monitor > "$OUT/ringcore.log" 2>&1 < /dev/null &
    RP=$!
    sleep 2
}

one() {  # label pidlabel pid args...
    local label=$1 who=$2 pid=$3 R=$4; shift 4
    sipp_measure "$OUT/${label}_r${R}_$rep" "$R" $((R * DUR)) "$who:$pid" -- "$@" | sed "s/^/$label /" | tee -a "$OUT/summary.txt"
}

for rep in $(seq 1 "$REPS"); do
    start_kamailio
    sipp_measure "$OUT/kam_warm_$rep" 2000 10000 "server:$KP" -- "${MD5_ARGS[@]}" > /dev/null
    for R in $RATES; do one kamailio-md5 server "$KP" "$R" "${MD5_ARGS[@]}"; sleep 1; done
    stop_pid "$KP"; pkill -f kamailio-registrar.cfg || true; sleep 1
    start_ringcore
    sipp_measure "$OUT/rc_warm_$rep" 2000 10000 "server:$RP" -- "${MD5_ARGS[@]}" > /dev/null
    for R in $RATES; do one ringcore-md5 server "$RP" "$R" "${MD5_ARGS[@]}"; sleep 1; done
    for R in $RATES; do one ringcore-aka server "$RP" "$R" "${AKA_ARGS[@]}"; sleep 1; done
    stop_pid "$RP"; sleep 1
done

# Per-core-second figures: achieved / (server_cpu% / 100), medians per label and rate.
awk '{
  lab=$1; r=""; a=""; c="";
  for (i=2;i<=NF;i++) { split($i,kv,"="); if (kv[1]=="rate") r=kv[2]; if (kv[1]=="achieved") { a=kv[2]; sub("/s","",a) } if (kv[1]=="server_cpu") { c=kv[2]; sub("%","",c) } }
  if (r!="" && c>0) print lab, r, a, c, a/(c/100)
}' "$OUT/summary.txt" | sort -k1,1 -k2,2n -k5,5n > "$OUT/per_core.txt"
awk '{k=$1" "$2; v[k]=v[k]" "$5; n[k]++; a[k]=a[k]" "$3; c[k]=c[k]" "$4}
     END{for (k in v){split(v[k],x," "); split(a[k],y," "); split(c[k],z," "); m=int((n[k]+1)/2);
       printf "MEDIAN %s achieved/s=%s server_cpu%%=%s reg_per_core_s=%.0f (runs %d)\n", k, y[m], z[m], x[m], n[k]}}' "$OUT/per_core.txt" | sort | tee -a "$OUT/summary.txt"
echo "# details: $OUT"
