# Shared by run.sh and derive.sh (sourced, POSIX sh): where they work (the
# kubectl to call, its namespace, how often to look), waiting for an Indexed
# Job, and taking what a pod printed between two marker lines from its log.

# KUBECTL: a kubectl to call instead (a wrapper, a stand-in for tests); REPLAY_POLL_S: seconds between looks.
kubectl=${KUBECTL:-kubectl}
poll_s=${REPLAY_POLL_S:-5}
ns=replay

# wait_for_job JOB DEADLINE NOUN TOTAL: returns 0 once JOB is Complete; on Failed, names the
# failed pods on stderr (`shard 2/4 failed: …`) and returns 3; past DEADLINE (epoch seconds) returns 4.
wait_for_job() {
  while :; do
    state=$($kubectl get job -n "$ns" "$1" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}')
    case " $state" in
      *" Complete "*) return 0 ;;
      *" Failed "* | *" FailureTarget "*)
        failed=$($kubectl get pods -n "$ns" -l "job-name=$1" --field-selector=status.phase=Failed \
          -o jsonpath='{range .items[*]}{.metadata.labels.batch\.kubernetes\.io/job-completion-index} {end}')
        for k in $failed; do
          echo "$3 $k/$4 failed: kubectl logs -n $ns -l job-name=$1,batch.kubernetes.io/job-completion-index=$k" >&2
        done
        return 3
        ;;
    esac
    if [ "$(date -u +%s)" -gt "$2" ]; then
      return 4
    fi
    sleep "$poll_s"
  done
}

# from_log JOB K WHAT OUT: what pod K of JOB printed between `----- BEGIN replay WHAT base64 -----`
# and its END line, base64-decoded and gunzipped, into OUT. Returns 1 when the pod printed none.
from_log() {
  pod=$($kubectl get pods -n "$ns" -l "job-name=$1,batch.kubernetes.io/job-completion-index=$2" \
    --field-selector=status.phase=Succeeded -o jsonpath='{.items[0].metadata.name}')
  $kubectl logs -n "$ns" "$pod" \
    | awk -v what="$3" '$0 == "----- END replay " what " base64 -----" { inside = 0 } inside { print } $0 == "----- BEGIN replay " what " base64 -----" { inside = 1 }' \
    > "$4.b64"
  if [ ! -s "$4.b64" ]; then
    rm -f "$4.b64"
    return 1
  fi
  base64 -d < "$4.b64" | gzip -dc > "$4"
  rm -f "$4.b64"
}
