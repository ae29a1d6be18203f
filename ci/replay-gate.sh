#!/bin/sh
# The CI gate, as the GitHub Action (.github/actions/replay-gate) and the
# GitLab template (ci/replay.gitlab-ci.yml) run it: check the profile, replay
# it against staging and judge it; then, whatever the verdict, compare it with
# the baseline and put the comparison beside the run's own summary. Exits with
# the run's verdict (0 passed, 1 failed, 2 bad input, 3 aborted), or 1 when
# the run passed but regressed against the baseline.
#
# Settings, from the environment:
#   REPLAY_PROFILE     the profile to replay (required)
#   STAGING_URL        the target (required)
#   REPLAY_DURATION    how long the replay lasts; the profile is fitted into it (default 5m)
#   REPLAY_THRESHOLDS  one threshold a line (default: p99<300ms, errors<1%, rps>=0.99*intended)
#   REPLAY_FLAGS       more `replay run` arguments, one a line (e.g. --sessions; --vars then a file)
#   REPLAY_BASELINE    results.json of the last good run (optional: no comparison without it)
#   REPLAY_TOLERANCE   how much worse counts against the baseline (default 10%)
#   REPLAY_OUT         the results folder (default replay-results/<CI run>-<attempt>, new for every run)
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT  set by GitHub: the summaries go to the first, `out=<folder>` to the second
set -u
: "${REPLAY_PROFILE:?set REPLAY_PROFILE to the profile to replay}"
: "${STAGING_URL:?set STAGING_URL to the staging service to replay against}"
run=${GITHUB_RUN_ID:-${CI_PIPELINE_ID:-local-$(date -u +%Y%m%dT%H%M%SZ)-$$}}-${GITHUB_RUN_ATTEMPT:-${CI_JOB_ID:-1}}
out=${REPLAY_OUT:-replay-results/$run}
thresholds=${REPLAY_THRESHOLDS:-"p99<300ms
errors<1%
rps>=0.99*intended"}
set --
while IFS= read -r threshold; do
  if [ -n "$threshold" ]; then set -- "$@" --threshold "$threshold"; fi
done <<THRESHOLDS
$thresholds
THRESHOLDS
while IFS= read -r flag; do
  if [ -n "$flag" ]; then set -- "$@" "$flag"; fi
done <<FLAGS
${REPLAY_FLAGS:-}
FLAGS
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "out=$out" >> "$GITHUB_OUTPUT"; fi

replay check "$REPLAY_PROFILE" || exit 2
gate=0
replay run "$REPLAY_PROFILE" --host "$STAGING_URL" --duration "${REPLAY_DURATION:-5m}" "$@" --abort-on-fail --out "$out" || gate=$?

# The comparison runs whatever the verdict: a failed gate is when it matters most.
compared=0
if [ -n "${REPLAY_BASELINE:-}" ] && [ -f "$REPLAY_BASELINE" ] && [ -f "$out/results.json" ]; then
  replay compare "$REPLAY_BASELINE" "$out/results.json" --tolerance "${REPLAY_TOLERANCE:-10%}" -o "$out" || compared=$?
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out/compare.md" ]; then cat "$out/compare.md" >> "$GITHUB_STEP_SUMMARY"; fi
elif [ -n "${REPLAY_BASELINE:-}" ]; then
  echo "replay-gate: no baseline at $REPLAY_BASELINE yet: nothing to compare against (keep a good run's results.json there)"
fi
echo "replay-gate: the reports are in $out"
if [ "$gate" -ne 0 ]; then exit "$gate"; fi
exit "$compared"
