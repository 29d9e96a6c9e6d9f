#!/usr/bin/env bash
# The whole ringcore test suite, on a fresh Debian machine or in CI.
#
# 1. installs what the tests need when missing: SIPp (Debian sip-tester), tshark, promtool
#    (Debian prometheus), a font for PNG plots, pip, and the Python clients the tests use as independent peers
#    (websockets for the remote API, scapy + cryptography for ESP);
# 2. runs every test twice: on the io_uring backend and on the epoll (mio) backend
#    (RINGCORE_FORCE_EPOLL=1 is read by the engine, and inherited by the ringcore
#    processes the interop tests start).
set -euo pipefail  # pipefail: a failing cargo test fails the pipe through tee
cd "$(dirname "$0")/.."

need=()
command -v sipp   >/dev/null 2>&1 || need+=(sip-tester)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v pip3   >/dev/null 2>&1 || need+=(python3-pip)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)  # ringload --plot FILE.png labels
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The remote API tests drive the core with an independent client (PyPI websockets).
# The IPsec interop test (tests/ipsec_live.rs) drives an independent ESP UE built on scapy.
# (--break-system-packages: Debian's externally managed Python refuses plain pip installs.)
pip_install() { pip3 install -q "$@" 2>/dev/null || pip3 install -q --break-system-packages "$@"; }
python3 -c 'import websockets.sync.client' >/dev/null 2>&1 || pip_install websockets
python3 -c "import scapy.layers.ipsec, cryptography" 2>/dev/null || pip_install scapy cryptography

export CARGO_TERM_COLOR=never
echo "== build"
cargo build --release --all-targets --quiet
# The fuzz targets (run with cargo-fuzz on nightly) must keep compiling against the library.
cargo check --manifest-path fuzz/Cargo.toml --quiet

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

echo "== tests: io_uring backend"
RINGCORE_BACKEND=uring cargo test --release --quiet -- --test-threads=2 2>&1 | tee -a "$LOG"

echo "== tests: epoll backend"
RINGCORE_FORCE_EPOLL=1 RINGCORE_BACKEND=epoll cargo test --release --quiet -- --test-threads=2 2>&1 | tee -a "$LOG"

echo "== unit tests in a debug build (the transaction layer's no-allocation checks run only there)"
cargo test --lib --quiet 2>&1 | tee -a "$LOG"

# One closing line over both runs (cargo prints one "test result" line per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$LOG"
