#!/usr/bin/env bash
# Runs one sharded replay on the current kubectl context and exits with its
# verdict (0 passed, 1 thresholds failed, 2 bad input, 3 aborted), so a CI job
# can run it and wait.
# Usage: deploy/kubernetes/run.sh [LEAD_SECONDS=60]
# LEAD_SECONDS is how long the pods get to be scheduled and pull the image
# before the common start instant.
set -euo pipefail
cd "$(dirname "$0")"
lead=${1:-60}
start_at=$(date -u -d "+${lead} seconds" +%Y-%m-%dT%H:%M:%SZ)
sed -i "s/^START_AT=.*/START_AT=${start_at}/" settings.env
kubectl delete job -n replay replay-shards replay-merge --ignore-not-found
kubectl apply -k .
echo "shards start at ${start_at}"
if ! kubectl wait -n replay --for=condition=complete job/replay-shards --timeout=24h; then
  kubectl get pods -n replay -l job-name=replay-shards
  echo "a shard failed: see its log (kubectl logs -n replay <pod>), rerun it (docs/distributed.md), then merge" >&2
  exit 3
fi
kubectl apply -f merge-job.yaml
kubectl wait -n replay --for=condition=complete job/replay-merge --timeout=10m \
  || kubectl wait -n replay --for=condition=failed job/replay-merge --timeout=1m || true
kubectl logs -n replay job/replay-merge
pod=$(kubectl get pods -n replay -l job-name=replay-merge -o jsonpath='{.items[0].metadata.name}')
exit "$(kubectl get pod -n replay "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')"
