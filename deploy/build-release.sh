#!/usr/bin/env bash
# The release binary, target/release/replay, built with profile-guided optimisation (PGO).
#
# An instrumented build first derives seeded logs of each kind the derive benchmark reads
# (realistic, short and long slugs, long queries; plain, gzip, one thread, partials and
# their merge), and replays the demo target (the run engine, HTTP/1.1 and h2c on loopback); the
# final build lays out and inlines the code by those counts. The two workloads are merged
# at equal weight (their hottest functions alike), so neither side's code is taken for cold.
# On this project's 2-core machine it cut derive's CPU time by 11-16% and its instructions
# by 6% (stop 48's note), with the same output.
#
# Needs llvm-profdata of rustc's own LLVM version: rustup's llvm-tools component, Debian's
# llvm-N package (installed here when apt-get can), or one on PATH. Without it, or with
# REPLAY_PGO=0, this is a plain `cargo build --release`, and it says so.
# A build of the same sources, training and toolchain is not done twice (target/pgo/stamp).
# Usage: deploy/build-release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$PWD/target/pgo
major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')

plain() {
  echo "build-release: $1: a plain release build" >&2
  cargo build --release --locked -q
  rm -f "$work/stamp"
  exit 0
}

find_profdata() {
  local candidate
  for candidate in "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata "$(command -v "llvm-profdata-$major" || true)" \
    "$(command -v llvm-profdata || true)"; do
    if [ -x "$candidate" ] && "$candidate" --version 2>/dev/null | grep -q "LLVM version $major\."; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

[ "${REPLAY_PGO:-1}" != 0 ] || plain "REPLAY_PGO=0"
[ -n "$major" ] || plain "rustc did not name its LLVM version"
if ! profdata=$(find_profdata); then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq "llvm-$major" >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq "llvm-$major") >/dev/null 2>&1 || true
  fi
  profdata=$(find_profdata) || plain "no llvm-profdata of LLVM $major (rustup component add llvm-tools, or Debian's llvm-$major)"
fi

# What the binary is built from: the sources, the lock, the training and the toolchain.
stamp="$(find src fixtures build.rs Cargo.toml Cargo.lock bench/gen_realistic.rs deploy/build-release.sh -type f -print0 \
  | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-16) $(rustc -V)"
# …and the binary it made (a plain `cargo build --release` since writes over it).
built() { echo "$stamp $(sha1sum < target/release/replay | cut -c1-16)"; }
if [ -x target/release/replay ] && [ "$(cat "$work/stamp" 2>/dev/null)" = "$(built)" ]; then
  exit 0
fi

echo "build-release: an instrumented build, its training, then the final build (llvm-profdata: $profdata)" >&2
rm -rf "$work/derive" "$work/run" "$work/logs" "$work"/*.profdata
mkdir -p "$work/logs" "$work/demo"
RUSTFLAGS="-Cprofile-generate=$work/derive" cargo build --release --locked -q --target-dir "$work/build"
bin=$work/build/release/replay

# Training logs: seeded, of another seed than the benchmark's (7).
rustc -O --edition 2024 bench/gen_realistic.rs -o "$work/gen_realistic"
"$work/gen_realistic" 60 11 > "$work/logs/realistic.log"
for kind in short-slugs slugs; do "$work/gen_realistic" 20 11 "$kind" > "$work/logs/$kind.log"; done
"$work/gen_realistic" 10 11 long-queries > "$work/logs/long-queries.log"
gzip -1 -c "$work/logs/realistic.log" > "$work/logs/realistic.log.gz"
split -n l/3 -d "$work/logs/realistic.log" "$work/logs/part"

for log in "$work"/logs/*.log "$work/logs/realistic.log.gz"; do
  "$bin" derive "$log" -o /dev/null 2>/dev/null
done
"$bin" derive --threads 1 "$work/logs/realistic.log" -o /dev/null 2>/dev/null
for part in "$work"/logs/part0?; do "$bin" derive --partial "$part" -o "$part.json" 2>/dev/null; done
"$bin" derive --merge "$work"/logs/part0?.json -o /dev/null 2>/dev/null

# The run engine: the demo replays a derived profile against its own target on loopback,
# over HTTP/1.1 and over HTTP/2 (h2c).
for http2 in "" --http2; do
  (cd "$work/demo" && LLVM_PROFILE_FILE="$work/run/%p-%m.profraw" "$bin" demo --duration 5s $http2 >/dev/null 2>&1)
done

rm -rf "$work/logs"
"$profdata" merge -o "$work/derive.profdata" "$work/derive"
"$profdata" merge -o "$work/run.profdata" "$work/run"
hottest() { "$profdata" show "$1" | sed -n 's/^Maximum function count: //p'; }
weight=$(( $(hottest "$work/derive.profdata") / ($(hottest "$work/run.profdata") + 1) + 1 ))
"$profdata" merge -o "$work/merged.profdata" --weighted-input=1,"$work/derive.profdata" --weighted-input="$weight","$work/run.profdata"

RUSTFLAGS="-Cprofile-use=$work/merged.profdata" cargo build --release --locked -q
built > "$work/stamp"
echo "build-release: target/release/replay, built with profile-guided optimisation (run workload weighted $weight)" >&2
