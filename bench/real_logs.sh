#!/usr/bin/env bash
# Every real log through the whole chain, as a new user would: derive with no
# flags (the manifest's --format where it names one), then run 3 s with no
# --var against nginx on loopback (every path answers 200), and print, per
# log, derive's and run's exit codes, what became of its lines and the share
# of requests that carried synthetic values.
# Usage: bench/real_logs.sh [DIR=../shared/real-logs]. Installs nginx when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../shared/real-logs}
. bench/nginx_target.sh
deploy/build-release.sh
replay=$PWD/target/release/replay
out=bench/out/real_logs
rm -rf "$out" && mkdir -p "$out"
start_nginx "$out/nginx" 18096 'access_log off;'
printf '%-70s %6s %4s %8s %8s %6s %10s\n' log derive run requests not_http sent synthetic
find "$dir" -name '*.log' -o -name '*.jsonl' | sort | while read -r log; do
    name=${log#"$dir"/}
    slug=$(echo "$name" | tr '/' '_')
    format=$(awk -F'\t' -v p="$name" '$1 == p && $3 != "auto" { print $3 }' "$dir/MANIFEST.tsv" 2>/dev/null || true)
    args=(derive "$log" -o "$out/$slug.json")
    [ -n "$format" ] && args+=(--format "$format")
    derive_rc=0; "$replay" "${args[@]}" 2>"$out/$slug.derive.txt" || derive_rc=$?
    if [ "$derive_rc" -ne 0 ]; then
        printf '%-70s %6s %4s %8s %8s %6s %10s\n' "$name" "$derive_rc" - - - - -; continue
    fi
    run_rc=0
    "$replay" run "$out/$slug.json" --host http://127.0.0.1:18096 --duration 3s --connections 64 --out "$out/$slug.run" \
        >"$out/$slug.run.txt" 2>&1 || run_rc=$?
    python3 - "$out/$slug.json" "$out/$slug.run/results.json" "$name" "$derive_rc" "$run_rc" <<'PY'
import json, sys
profile = json.load(open(sys.argv[1]))
try:
    totals = json.load(open(sys.argv[2]))["totals"]
except (OSError, ValueError):
    totals = {"requests": 0, "synthetic": 0}
source = profile["source"]
share = totals.get("synthetic", 0) / totals["requests"] * 100 if totals["requests"] else 0.0
print(f"{sys.argv[3]:<70} {sys.argv[4]:>6} {sys.argv[5]:>4} {source['records']:>8} {source.get('not_requests', 0):>8} "
      f"{totals['requests']:>6} {share:>9.1f}%")
PY
done
