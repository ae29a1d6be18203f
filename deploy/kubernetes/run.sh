#!/bin/sh
# Runs one sharded replay on the current kubectl context, then collects every
# shard's results from its pod's log, merges them exactly and judges the
# whole. It exits with the verdict: 0 passed, 1 thresholds failed, 2 bad
# input, 3 a shard failed or the wait ran out (the failed shards named).
#
# Usage: deploy/kubernetes/run.sh [--lead SECONDS] [--out DIR] [--kustomization DIR] [--wait SECONDS]
#   --lead            how long the pods get to be scheduled and pull the image before
#                     the common start instant (default 60)
#   --out             where the shards' results, merged.json and the report go
#                     (default replay-results/<run id>; a new folder each run)
#   --kustomization   what to apply (default base/ beside this script; shared-volume/ keeps
#                     every shard's full reports on a ReadWriteMany volume too)
#   --wait            how long to wait for the shards after the start (default 86400)
#
# Needs, where it runs: kubectl (kustomize is built in), replay, gzip, base64, awk; lib.sh beside it.
# POSIX sh; no tracked file is edited.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lead=60
out=
kustomization=$here/base
wait_s=86400
while [ $# -gt 0 ]; do
  case "$1" in
    --lead) lead=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --kustomization) kustomization=$2; shift 2 ;;
    --wait) wait_s=$2; shift 2 ;;
    *) echo "run.sh: unknown argument $1 (see the usage at the top of the script)" >&2; exit 2 ;;
  esac
done
job=replay-shards
. "$here/lib.sh"

# The start instant, `lead` seconds ahead: GNU and busybox date take -d @EPOCH, BSD and macOS -r EPOCH.
now=$(date -u +%s)
start=$((now + lead))
start_at=$(date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$start" +%Y-%m-%dT%H:%M:%SZ)
run_id=k8s-$(date -u +%Y%m%dT%H%M%SZ)-$$
out=${out:-replay-results/$run_id}
mkdir -p "$out"

$kubectl apply -f "$kustomization/../base/namespace.yaml"
$kubectl delete job -n "$ns" "$job" --ignore-not-found --wait=true
$kubectl create configmap replay-start -n "$ns" --from-literal=START_AT="$start_at" --from-literal=RUN_ID="$run_id" \
  --dry-run=client -o yaml | $kubectl apply -f -
$kubectl apply -k "$kustomization"
shards=$($kubectl get job -n "$ns" "$job" -o jsonpath='{.spec.completions}')
echo "run $run_id: $shards shards start at $start_at; results into $out"

# Wait for the Job to complete or fail, whichever comes first.
code=0
wait_for_job "$job" $((start + wait_s)) shard "$shards" || code=$?
case $code in
  3) echo "run $run_id failed: rerun the failed shard with --run-id $run_id and a new --start-at, then merge (docs/distributed.md)" >&2; exit 3 ;;
  4) echo "run $run_id: the shards did not finish within $wait_s s of the start; see kubectl get pods -n $ns -l job-name=$job" >&2; exit 3 ;;
esac

# Each shard's results.json, from the end of its log.
k=0
while [ "$k" -lt "$shards" ]; do
  mkdir -p "$out/shard-$k"
  if ! from_log "$job" "$k" results.json.gz "$out/shard-$k/results.json"; then
    echo "run $run_id: shard $k printed no results; see kubectl logs -n $ns -l job-name=$job,batch.kubernetes.io/job-completion-index=$k" >&2
    exit 3
  fi
  k=$((k + 1))
done

# The thresholds of run-flags judge the merged run.
flags=$kustomization/run-flags
[ -f "$flags" ] || flags=$kustomization/../base/run-flags
thresholds=$(awk 'previous == "--threshold" { print } { previous = $0 }' "$flags")
set --
while IFS= read -r threshold; do
  if [ -n "$threshold" ]; then set -- "$@" --threshold "$threshold"; fi
done <<THRESHOLDS
$thresholds
THRESHOLDS
replay merge "$out"/shard-*/results.json -o "$out/merged.json"
code=0
replay report "$out/merged.json" "$@" -o "$out/report" || code=$?
echo "run $run_id: the merged report is in $out/report"
exit "$code"
