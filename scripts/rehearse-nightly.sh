#!/usr/bin/env bash
# Rehearse one cell of the nightly workflow on this machine, step by step, the way a GitHub runner runs it:
# the same `scripts/nightly.sh` subcommands in the job's order, with GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
# the rest set to files under ~/rehearsal-<cell>/, each step's exit status printed and kept.
#
# The online cells pull from Docker Hub, ghcr.io and registry.k8s.io and fetch KEDA's release manifests from
# GitHub. A machine without those (this one) serves both itself: a local pull-through registry mirror filled
# by the offline build (`python3 -m offline.mirror`) and a local HTTP server for the release manifests
# (CKE_KEDA_MANIFEST with `{version}`), exactly the two settings a company network with an internal mirror
# uses. Run it as the runner-like user (not root, passwordless sudo), from a clean clone.
#
#   bash scripts/rehearse-nightly.sh KEDA FROM [pytest args for the e2e step]
#     e.g. bash scripts/rehearse-nightly.sh 2.21.0 2.20.2 tests/e2e/test_default_scenario.py tests/e2e/test_keda_upgrade.py
#   CKE_REHEARSAL_MUTANT=slow-metrics bash scripts/rehearse-nightly.sh 2.21.0 2.20.2 tests/e2e/test_default_scenario.py
#     the weekly offline job's steps with a slowed candidate (KEDA built with that mutant's patch): the gate
#     step must exit 1 and its JUnit verdict must fail.
#
# Exit status: 0 when every step exited as it should (the gate: 0, or 1 with a mutant), else 1.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source "$(bash scripts/bootstrap.sh --env)"

KEDA=${1:?KEDA version}; FROM=${2:?FROM version}; shift 2
K8S=$(. offline/versions.env && echo "$K8S_VERSION")
MUTANT=${CKE_REHEARSAL_MUTANT:-}
CELL=$KEDA${MUTANT:+-$MUTANT}
GH=$HOME/rehearsal-$CELL
rm -rf "$GH" && mkdir -p "$GH"
export GITHUB_ACTIONS=true CI=true GITHUB_OUTPUT=$GH/output GITHUB_PATH=$GH/path GITHUB_ENV=$GH/env \
       GITHUB_STEP_SUMMARY=$GH/summary.md GITHUB_WORKSPACE=$PWD RUNNER_TEMP=$GH PYTHONUNBUFFERED=1

failed=()
step() {  # step EXPECTED_EXIT|any COMMAND...: run one workflow step, print and keep its exit status
  local want=$1; shift
  echo "=== step: $* ($(date +%T))"
  "$@"; local rc=$?
  echo "=== step exit $rc (expected $want): $* ($(date +%T))"
  [ "$want" = any ] || [ "$rc" = "$want" ] || failed+=("$* (exit $rc, expected $want)")
}

rm -rf artifacts
if [ -z "$MUTANT" ]; then
  # The online job: images through the local mirror, release manifests from the local server.
  python3 -m offline.mirror start --port "${CKE_REHEARSAL_MIRROR_PORT:-5055}" >/dev/null
  mkdir -p "$GH/releases"
  for v in "$KEDA" "$FROM"; do
    cp "$(python3 -m offline.mirror fill --keda-version "$v" | tail -1)" "$GH/releases/keda-$v.yaml"
  done
  (cd "$GH/releases" && exec python3 -m http.server "${CKE_REHEARSAL_HTTP_PORT:-8765}" --bind 127.0.0.1 \
     >"$GH/http.log" 2>&1) &
  server=$!
  trap 'kill "$server" 2>/dev/null' EXIT
  export CKE_REGISTRY_MIRROR=127.0.0.1:${CKE_REHEARSAL_MIRROR_PORT:-5055}
  export CKE_KEDA_MANIFEST="http://127.0.0.1:${CKE_REHEARSAL_HTTP_PORT:-8765}/keda-{version}.yaml"
  mode=off e2e_exit=0 gate_exit=0
  step 0 bash scripts/nightly.sh matrix
else
  # The weekly offline job's steps, the candidate built with the mutant's patch.
  # The e2e step may fail (the mutant's own check) or pass (a candidate only slower): the gate must fail.
  mode=on e2e_exit=any gate_exit=1
  step 0 bash scripts/nightly.sh build on "$KEDA" "$FROM" "$K8S"
  set -- --mutant "$MUTANT" "$@"
fi
step 0 bash scripts/nightly.sh baseline "$mode" "$FROM" "$K8S"
step "$e2e_exit" bash scripts/nightly.sh e2e "$mode" "$KEDA" "$FROM" "$K8S" "$@"
step "$gate_exit" bash scripts/nightly.sh gate "$KEDA" "$FROM"
step 0 bash scripts/nightly.sh collect
step 0 bash scripts/nightly.sh link "https://github.example/rehearsal/$CELL"

echo "=== $GITHUB_STEP_SUMMARY:"; cat "$GITHUB_STEP_SUMMARY"
echo "=== artifacts/junit-gate.xml:"; head -12 artifacts/junit-gate.xml
if [ ${#failed[@]} -gt 0 ]; then
  printf 'rehearse-nightly: step not as expected: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "rehearse-nightly: cell $CELL: every step exited as expected"
