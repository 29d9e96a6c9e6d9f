# Shared reporting for the "ours vs raw echo" load scripts (sourced, not run).
# Lines in SUMMARY look like "<label> rep=<n> ... reply_rate=<rate> ..." for labels raw, uring
# and epoll; report() prints the medians and, per backend, the median of the per-repetition
# ratios against the raw echo of the same repetition (slow drift of the machine cancels out).

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
