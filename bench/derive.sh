#!/usr/bin/env bash
# Benchmark: `replay derive` against cat, wc -l and goaccess, side by side in
# one run, on seeded Combined logs made here:
# - realistic (bench/gen_realistic.rs): a day of a shop and blog, SIZE_MB big:
#   sessions with logins, 200,000 blog slugs, a million product slugs, CDN
#   hashes, ids, crawlers, a health check and scanners;
# - slugs: every request a distinct /{8 letters}/{10 letters} path, the worst
#   case for cardinality (a third of SIZE_MB), in ~210-byte lines; and the
#   same paths in ~107-byte lines from 65,536 clients (short slugs: the most
#   lines, templates and users a megabyte);
# - few paths (bench/gen_combined.py): ids on a few dozen templates (a third of SIZE_MB);
# - long queries: the slug paths with 6.4 KB of query each (a third of SIZE_MB),
#   the worst case for samples held in memory.
# The realistic log is also split in 8 parts, each derived to a partial
# (--partial) one after another, then merged (--merge): a fleet's derive on
# one machine's time.
# Each figure is the median of ROUNDS interleaved rounds (3), every input read
# just before its run (bench/measure.py). With REPLAY_BEFORE=path/to/an/older/replay,
# that binary derives the realistic and the short-slug logs in the same rounds, in
# rows of their own: a before-and-after on the same moments of a shared machine.
# Usage: [REPLAY_BEFORE=older/replay] [ROUNDS=3] bench/derive.sh [SIZE_MB=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1000}
small_mb=$((size_mb / 3))
out=bench/out
mkdir -p "$out"
if ! command -v goaccess >/dev/null || [ ! -x /usr/bin/time ]; then
  (apt-get update -qq && apt-get install -y -qq goaccess time) >/dev/null
fi
deploy/build-release.sh
rustc -O --edition 2024 bench/gen_realistic.rs -o "$out/gen_realistic"
log="$out/realistic-${size_mb}MB-seed7.log"
slugs="$out/slugs-${small_mb}MB-seed7.log"
short="$out/short-slugs-${small_mb}MB-seed7.log"
few="$out/combined-${small_mb}MB-seed7.log"
long="$out/long-queries-${small_mb}MB-seed7.log"
[ -s "$log" ] || { "$out/gen_realistic" "$size_mb" 7 > "$log.tmp" && mv "$log.tmp" "$log"; }
[ -s "$slugs" ] || { "$out/gen_realistic" "$small_mb" 7 slugs > "$slugs.tmp" && mv "$slugs.tmp" "$slugs"; }
[ -s "$short" ] || { "$out/gen_realistic" "$small_mb" 7 short-slugs > "$short.tmp" && mv "$short.tmp" "$short"; }
[ -s "$long" ] || { "$out/gen_realistic" "$small_mb" 7 long-queries > "$long.tmp" && mv "$long.tmp" "$long"; }
[ -s "$few" ] || { python3 bench/gen_combined.py "$small_mb" 7 > "$few.tmp" && mv "$few.tmp" "$few"; }
[ -s "$log.gz" ] || { gzip -1 -c "$log" > "$log.gz.tmp" && mv "$log.gz.tmp" "$log.gz"; }
bytes=$(stat -c %s "$log")
# goaccess reads ~3 MB/s here: give it a 64 MB slice so the run stays short.
slice="$out/realistic-64MB-slice.log"
head -c 64000000 "$log" | sed '$d' > "$slice"
slice_bytes=$(stat -c %s "$slice")
parts="$out/parts-${size_mb}MB"
if [ ! -s "$parts/part07" ]; then
  rm -rf "$parts" && mkdir -p "$parts" && split -n l/8 -d "$log" "$parts/part"
fi
fleet="for p in $parts/part0?; do target/release/replay derive --partial \$p -o \$p.json.gz 2>/dev/null || exit 1; done; target/release/replay derive --merge $parts/part0?.json.gz -o /dev/null 2>/dev/null"
before=()
if [ -n "${REPLAY_BEFORE:-}" ]; then
  before=("replay derive (short slugs), before" "$(stat -c %s "$short")" -- "$REPLAY_BEFORE" derive "$short" -o /dev/null ";;"
    "replay derive, before" "$bytes" -- "$REPLAY_BEFORE" derive "$log" -o /dev/null ";;")
fi
cat "$log" "$log.gz" "$slugs" "$short" "$long" "$few" "$parts"/part0? > /dev/null  # warm the page cache so every tool reads from memory
echo "inputs: $log ($bytes bytes), $slugs, $short, $long, $few; $(nproc) cores"
python3 bench/measure.py \
  "cat >/dev/null" "$bytes" -- cat "$log" ";;" \
  "wc -l" "$bytes" -- wc -l "$log" ";;" \
  "goaccess (64 MB slice)" "$slice_bytes" -- goaccess "$slice" --log-format=COMBINED --no-global-config -o "$out/goaccess.json" ";;" \
  "zcat >/dev/null" "$bytes" -- gzip -dc "$log.gz" ";;" \
  "replay derive (gzip input)" "$bytes" -- target/release/replay derive "$log.gz" -o /dev/null ";;" \
  "replay derive (1 thread)" "$bytes" -- target/release/replay derive --threads 1 "$log" -o /dev/null ";;" \
  "replay derive (slugs)" "$(stat -c %s "$slugs")" -- target/release/replay derive "$slugs" -o /dev/null ";;" \
  "replay derive (short slugs)" "$(stat -c %s "$short")" -- target/release/replay derive "$short" -o /dev/null ";;" \
  "replay derive: 8 partials + merge" "$bytes" -- sh -c "$fleet" ";;" \
  "replay derive (long queries)" "$(stat -c %s "$long")" -- target/release/replay derive "$long" -o /dev/null ";;" \
  "replay derive (few paths)" "$(stat -c %s "$few")" -- target/release/replay derive "$few" -o /dev/null ";;" \
  ${before[@]+"${before[@]}"} \
  "replay derive" "$bytes" -- target/release/replay derive "$log" -o /dev/null
