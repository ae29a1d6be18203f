#!/usr/bin/env bash
# Benchmark: `replay derive` against cat, wc -l and goaccess on one seeded
# Combined log, side by side in one run. Usage: bench/derive.sh [SIZE_MB=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1000}
out=bench/out
mkdir -p "$out"
log="$out/combined-${size_mb}MB-seed7.log"
if ! command -v goaccess >/dev/null || [ ! -x /usr/bin/time ]; then
  (apt-get update -qq && apt-get install -y -qq goaccess time) >/dev/null
fi
cargo build --release --locked -q
if [ ! -s "$log" ]; then
  echo "generating $log ..."
  python3 bench/gen_combined.py "$size_mb" 7 > "$log.tmp" && mv "$log.tmp" "$log"
fi
if [ ! -s "$log.gz" ]; then
  gzip -1 -c "$log" > "$log.gz.tmp" && mv "$log.gz.tmp" "$log.gz"
fi
bytes=$(stat -c %s "$log")
# goaccess reads ~3 MB/s here: give it a 64 MB slice so the run stays short.
slice="$out/combined-64MB-slice.log"
head -c 64000000 "$log" | sed '$d' > "$slice"
slice_bytes=$(stat -c %s "$slice")
cat "$log" "$log.gz" > /dev/null  # warm the page cache so every tool reads from memory
echo "input: $log ($bytes bytes), $(nproc) cores"
python3 bench/measure.py \
  "cat >/dev/null" "$bytes" -- cat "$log" ";;" \
  "wc -l" "$bytes" -- wc -l "$log" ";;" \
  "goaccess (64 MB slice)" "$slice_bytes" -- goaccess "$slice" --log-format=COMBINED --no-global-config -o "$out/goaccess.json" ";;" \
  "replay derive (1 thread)" "$bytes" -- target/release/replay derive --threads 1 "$log" -o /dev/null ";;" \
  "zcat >/dev/null" "$bytes" -- gzip -dc "$log.gz" ";;" \
  "replay derive (gzip input)" "$bytes" -- target/release/replay derive "$log.gz" -o /dev/null ";;" \
  "replay derive" "$bytes" -- target/release/replay derive "$log" -o /dev/null
