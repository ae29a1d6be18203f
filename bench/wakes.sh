#!/usr/bin/env bash
# What a wake costs a sleeping thread on this machine, three ways (bench/wakes.c):
# the figure behind the run loop's two timers (src/run/timer.rs). Installs gcc
# (Debian) when missing. Usage: bench/wakes.sh [WAKES=4000] [GAP_US=300].
set -euo pipefail
cd "$(dirname "$0")/.."
command -v gcc >/dev/null || (apt-get update -qq && apt-get install -y -qq gcc libc6-dev) >/dev/null
mkdir -p bench/out
gcc -O2 -pthread -o bench/out/wakes bench/wakes.c
bench/out/wakes "${1:-4000}" "${2:-300}"
