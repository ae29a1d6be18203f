#!/bin/sh
# Derives a fleet's logs on the current kubectl context: applies the derive
# Job (derive/), waits for every pod, collects each pod's partial profile from
# its log and merges them into the profile one `replay derive` of every input
# would give. Exits 0 with the profile written, 2 when the merge refuses the
# partials (bad input), 3 when a pod failed or the wait ran out (named).
#
# Usage: deploy/kubernetes/derive.sh [--out DIR] [--kustomization DIR] [--wait SECONDS]
#   --out             where the partials and profile.json go (default replay-derive/<id>; a new folder each time)
#   --kustomization   what to apply (default derive/ beside this script)
#   --wait            how long to wait for the pods (default 86400)
#
# Needs, where it runs: kubectl (kustomize is built in), replay, gzip, base64, awk; lib.sh beside it.
# POSIX sh; no tracked file is edited.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=
kustomization=$here/derive
wait_s=86400
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --kustomization) kustomization=$2; shift 2 ;;
    --wait) wait_s=$2; shift 2 ;;
    *) echo "derive.sh: unknown argument $1 (see the usage at the top of the script)" >&2; exit 2 ;;
  esac
done
job=replay-derive
. "$here/lib.sh"

id=derive-$(date -u +%Y%m%dT%H%M%SZ)-$$
out=${out:-replay-derive/$id}
mkdir -p "$out"

$kubectl apply -f "$here/base/namespace.yaml"
$kubectl delete job -n "$ns" "$job" --ignore-not-found --wait=true
$kubectl apply -k "$kustomization"
pods=$($kubectl get job -n "$ns" "$job" -o jsonpath='{.spec.completions}')
echo "derive $id: $pods pods; partials and the profile into $out"

code=0
wait_for_job "$job" $(($(date -u +%s) + wait_s)) pod "$pods" || code=$?
case $code in
  3) echo "derive $id failed: the failed pod's log names the input at fault; mend it (or drop it from inputs) and run derive.sh again" >&2; exit 3 ;;
  4) echo "derive $id: the pods did not finish within $wait_s s; see kubectl get pods -n $ns -l job-name=$job" >&2; exit 3 ;;
esac

# Each pod's partial, from the end of its log; a pod whose share was empty printed none.
k=0
got=0
while [ "$k" -lt "$pods" ]; do
  if from_log "$job" "$k" partial.json.gz "$out/part-$k.json"; then
    got=$((got + 1))
  else
    echo "derive $id: pod $k printed no partial (no inputs in its share)"
  fi
  k=$((k + 1))
done
if [ "$got" -eq 0 ]; then
  echo "derive $id: no pod printed a partial; check the inputs list" >&2
  exit 2
fi
replay derive --merge "$out"/part-*.json -o "$out/profile.json"
echo "derive $id: the profile is $out/profile.json"
