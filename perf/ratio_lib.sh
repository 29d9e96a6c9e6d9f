# Shared parts of the "ours vs raw echo" load scripts (sourced, not run): the ringcore
# configurations, the raw echo run and the report. Callers set OUT, PORT, SECS, WINDOW, BATCH,
# BLAST and ECHO_SERVER.
# Lines in SUMMARY look like "<label> rep=<n> ... reply_rate=<rate> ..." for labels raw, uring
# and epoll; report() prints the medians and, per backend, the median of the per-repetition
# ratios against the raw echo of the same repetition (slow drift of the machine cancels out).

core_cfgs() {  # extra config lines for both backends
    for b in uring epoll; do
        cat > "$OUT/$b.cfg" <<CFG
{
  sip_addr: "127.0.0.1:$PORT",
  domain: "ims.mnc001.mcc001.3gppnetwork.org",
  log_options: "all.level=error",
  $1
  engine: { backend: "$b", workers: 1, cpus: [1] },
}
CFG
    done
}
run_raw() {  # rep port blast-extra-args...
    local rep=$1 port=$2; shift 2
    taskset -c 1 "$ECHO_SERVER" "$port" 64 $((SECS + 2)) > "$OUT/raw.$rep.server" 2>&1 &
    local sp=$!; sleep 0.3
    taskset -c 0 "$BLAST" 127.0.0.1:"$port" "$SECS" "$WINDOW" "$BATCH" "$@" | sed "s/^/raw rep=$rep /" | tee -a "$OUT/summary.txt"
    wait $sp || true
}

median() {  # summary label
    grep "^$2 " "$1" | grep -o 'reply_rate=[0-9]*' | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'
}
rep_ratio_median() {  # summary reps backend
    for rep in $(seq 1 "$2"); do
        r=$(grep "^raw rep=$rep " "$1" | grep -o 'reply_rate=[0-9]*' | cut -d= -f2)
        b=$(grep "^$3 rep=$rep " "$1" | grep -o 'reply_rate=[0-9]*' | cut -d= -f2)
        awk -v r="$r" -v b="$b" 'BEGIN{printf "%.3f\n", b/r}'
    done | sort -n | awk '{a[NR]=$1} END{printf "%.2f (runs: %s..%s)", a[int((NR+1)/2)], a[1], a[NR]}'
}
report() {  # summary reps
    {
      echo "MEDIAN raw_echo=$(median "$1" raw)/s ringcore_uring=$(median "$1" uring)/s ringcore_epoll=$(median "$1" epoll)/s"
      echo "RATIO (median of per-repetition ratios) uring/raw=$(rep_ratio_median "$1" "$2" uring) epoll/raw=$(rep_ratio_median "$1" "$2" epoll)"
    } | tee -a "$1"
    echo "# details: $(dirname "$1")"
}
