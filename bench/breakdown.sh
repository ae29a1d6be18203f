#!/usr/bin/env bash
# Where a run's time goes, per request: `replay run` at RATE rps for SECONDS
# against nginx on loopback (core 1), the generator on core 0, measured three
# ways, each on its own run:
#   1. CPU per request and peak RSS (GNU time);
#   2. syscalls and context switches per request, by name (perf's tracepoints,
#      which count without slowing the run: strace would, and a slowed run
#      reads its responses at other moments): writes, reads, epoll, timers;
#   3. where the CPU goes (perf record): the top symbols, kernel and user;
#   4. user-space instructions per request (callgrind): two runs of 2 and 4
#      seconds, the difference over the difference, so start-up and the
#      reports at the end cancel out. Once at 2,000 rps (about 2 requests a
#      wake), once at 5,000 rps with a 2 ms batch window (8 a wake, as at the
#      one-core ceiling, where a wake's own work is shared by a full batch).
#      Instructions, unlike seconds, are the same on a busy machine: compare
#      builds by these lines.
# Usage: bench/breakdown.sh [RATE=5000] [SECONDS=10]. Installs nginx,
# linux-perf, valgrind and GNU time (Debian) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-5000}
seconds=${2:-10}
if ! command -v nginx >/dev/null || ! command -v perf >/dev/null || ! command -v valgrind >/dev/null || [ ! -x /usr/bin/time ]; then
  (apt-get update -qq && apt-get install -y -qq nginx linux-perf valgrind time) >/dev/null
fi
deploy/build-release.sh
source bench/bench_nginx.sh
start_bench_nginx
out=bench/out/breakdown
rm -rf "$out" && mkdir -p "$out"
replay=target/release/replay
$replay profile --shape steady --rps "$rate" --over "${seconds}s" --endpoint 'GET /' -o "$out/profile.json"
run() { taskset -c 0 "$@" "$replay" run "$out/profile.json" --host http://127.0.0.1:18080/ --connections 256 --out "$out/r" --overwrite >/dev/null 2>&1 || true; }
sent() { python3 -c "import json; print(json.load(open('$out/r/results.json'))['totals']['requests'])"; }

/usr/bin/time -f "%U %S %M" -o "$out/time" taskset -c 0 "$replay" run "$out/profile.json" --host http://127.0.0.1:18080/ \
  --connections 256 --out "$out/r" --overwrite >/dev/null 2>&1 || true
read -r user system rss < "$out/time"
n=$(sent)
lag=$(python3 -c "import json; print(json.load(open('$out/r/results.json'))['schedule_lag_ms']['p99'])")
echo "replay run at $rate rps for $seconds s: $n requests"
python3 -c "print(f'  CPU per request {($user + $system) / max($n, 1) * 1e6:.1f} us (user {$user / max($n, 1) * 1e6:.1f}, system {$system / max($n, 1) * 1e6:.1f}); peak RSS {$rss / 1024:.1f} MB; schedule lag p99 $lag ms')"

events=sched:sched_switch
for call in sendto write writev recvfrom recvmsg read epoll_wait timerfd_settime setsockopt futex; do
  events="$events,syscalls:sys_enter_$call"
done
run perf stat -x, -e "$events" -o "$out/syscalls.csv"
n=$(sent)
echo "  syscalls and context switches per request (perf tracepoints, $n requests):"
awk -F, -v n="$n" '$1 ~ /^[0-9]+$/ { name = $3; sub(/.*sys_enter_/, "", name); sub(/sched:sched_switch/, "context switches", name); if ($1 / n >= 0.005) printf "    %-16s %6.3f\n", name, $1 / n }' "$out/syscalls.csv"

run perf record -q -F 1999 -g -o "$out/perf.data"
echo "  where the CPU goes (perf, top 25 symbols):"
perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
  | grep -E '^ +[0-9.]+%' | head -25 | sed -E 's/ +$//; s/^ +/    /' | cut -c1-140 || true

instructions() {
  local rate=$1 seconds=$2
  shift 2
  $replay profile --shape steady --rps "$rate" --over "${seconds}s" --endpoint 'GET /' -o "$out/cg-profile.json"
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$replay" run "$out/cg-profile.json" \
    --host http://127.0.0.1:18080/ --connections 256 "$@" --out "$out/r" --overwrite >/dev/null 2>"$out/callgrind.txt" || true
  echo "$(sed -n 's/.*Collected : //p' "$out/callgrind.txt") $(sent)"
}
per_request() {
  local what=$1 rate=$2
  shift 2
  read -r ir_short n_short <<< "$(instructions "$rate" 2 "$@")"
  read -r ir_long n_long <<< "$(instructions "$rate" 4 "$@")"
  python3 -c "print(f'  user-space instructions per request, $what (callgrind, {$n_long} - {$n_short} requests): {($ir_long - $ir_short) / max($n_long - $n_short, 1):,.0f}')"
}
per_request "2,000 rps" 2000
per_request "5,000 rps, 8 a wake" 5000 --batch-window 2ms
