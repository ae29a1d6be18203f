#!/usr/bin/env bash
# Soak: `replay run` at RATE rps for MINUTES against nginx on loopback (the
# generator on core 0, nginx on core 1), its resident memory read from
# /proc every 10 s. Prints RSS per minute, then the first minute's peak, the
# peak and the last RSS, and whether memory stayed flat. The run's one
# growth by design is its latency periods (at most 100 for a profile's
# length, one 26 KB histogram each, made as its period begins: about 2.6 MB
# over any run, however long); flat means the last RSS is within the first
# minute's peak plus the periods made since, plus 10%.
# Usage: bench/soak.sh [MINUTES=10] [RATE=5000]. Installs nginx and openssl (Debian) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
rate=${2:-5000}
deploy/build-release.sh
source bench/bench_nginx.sh
start_bench_nginx
out=bench/out/soak
rm -rf "$out" && mkdir -p "$out"
replay=target/release/replay
$replay profile --shape steady --rps "$rate" --over "${minutes}m" --endpoint 'GET /' -o "$out/profile.json"
taskset -c 0 "$replay" run "$out/profile.json" --host http://127.0.0.1:18080/ --connections 256 --out "$out/r" >/dev/null 2>&1 &
pid=$!
: > "$out/rss.tsv"
elapsed=0
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && printf '%s\t%s\n' "$elapsed" "$rss" >> "$out/rss.tsv"
  sleep 10
  elapsed=$((elapsed + 10))
done
wait "$pid" || true
python3 - "$out" "$rate" "$minutes" <<'PY'
import json, sys
out, rate, minutes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [tuple(map(int, line.split())) for line in open(f"{out}/rss.tsv") if line.strip()]
r = json.load(open(f"{out}/r/results.json"))
print(f"soak: {rate} rps for {minutes} min, {r['totals']['requests']} requests of {r['totals']['intended']} intended, "
      f"lag p99 {r['schedule_lag_ms']['p99']} ms")
print("  minute  RSS MB")
for s, kb in rows:
    if s % 60 == 0:
        print(f"  {s // 60:>6}  {kb / 1024:6.1f}")
first = max(kb for s, kb in rows if s <= 60)
peak = max(kb for _, kb in rows)
last = rows[-1][1]
periods = len(r["periods"])
period_s = r["period_s"]
# hdrhistogram at 1 us .. 1 h, 2 significant digits: 3,328 u64 counts.
periods_kb = max(periods - 60 // period_s, 0) * 3328 * 8 / 1024
flat = last <= (first + periods_kb) * 1.10
print(f"  first minute's peak {first / 1024:.1f} MB, peak {peak / 1024:.1f} MB, last {last / 1024:.1f} MB; "
      f"{periods} periods of {period_s} s, {periods_kb / 1024:.1f} MB of them made after the first minute: "
      f"{'flat' if flat else 'GROWING'}")
PY
