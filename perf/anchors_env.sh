# Sourced by the side-by-side load scripts (not executed): a fresh output folder
# perf/out/NAME-DATE with a writable copy of ../shared/anchors, the anchors' helpers
# (sipp_measure, stop_pid, ...) and a release build of ringcore.
# usage: source perf/anchors_env.sh NAME   (from the repository root)
ROOT=$(pwd)
OUT=$ROOT/perf/out/$1-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
# A git worktree (/work/wt/NAME) has no ../shared next to it: fall back to /work/shared.
ANCH_SRC=$ROOT/../shared/anchors; [ -d "$ANCH_SRC" ] || ANCH_SRC=/work/shared/anchors
ANCH=$OUT/anchors; cp -r "$ANCH_SRC" "$ANCH"
# Server CPU to a tenth of a percent (the anchors print whole percent: +-3% at 16%).
sed -i 's|printf "%.0f", 100\*d/hz/w|printf "%.1f", 100*d/hz/w|' "$ANCH/common.sh"
source "$ANCH/common.sh"
RESULTS=$OUT
cargo build --release --quiet --bin ringcore
