#!/usr/bin/env bash
# Benchmark: `replay run` beside oha and wrk against nginx on loopback, in one run.
# Then the breakdown at 5,000 rps (bench/breakdown.sh).
# Usage: [REPLAY_BEFORE=older/replay] bench/run.sh [SECONDS=30]. Installs nginx, wrk, GNU time, chromium and perf (Debian) and oha (crates.io) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ] || ! command -v chromium >/dev/null || ! command -v perf >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq nginx wrk time chromium linux-perf) >/dev/null
fi
command -v oha >/dev/null || cargo install oha --locked
deploy/build-release.sh
mkdir -p bench/out
gcc -O2 -o bench/out/openloop bench/openloop.c -lm
source bench/bench_nginx.sh
start_bench_nginx
python3 bench/run_bench.py "${1:-30}"
# Where the time goes at 5,000 rps: CPU, syscalls, symbols and instructions per request.
bench/breakdown.sh 5000 10
