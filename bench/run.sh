#!/usr/bin/env bash
# Benchmark: `replay run` beside oha and wrk against nginx on loopback, in one run.
# Then the breakdown at 5,000 rps (bench/breakdown.sh).
# Usage: [REPLAY_BEFORE=older/replay] bench/run.sh [SECONDS=30]. Installs nginx, wrk, GNU time and chromium (Debian) and oha (crates.io) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ] || ! command -v chromium >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq nginx wrk time chromium) >/dev/null
fi
command -v oha >/dev/null || cargo install oha --locked
cargo build --release --locked -q
mkdir -p bench/out/nginx/tmp
cp bench/nginx.conf bench/out/nginx/nginx.conf
(cd bench/out/nginx && exec taskset -c 1 nginx -p "$PWD" -c nginx.conf) &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/ >/dev/null && break; sleep 0.1; done
python3 bench/run_bench.py "${1:-30}"
# Where the time goes at 5,000 rps: CPU, syscalls, symbols and instructions per request.
bench/breakdown.sh 5000 10
