#!/usr/bin/env bash
# The nightly workflow's steps, one subcommand each, so what GitHub runs is what runs here
# (tests/unit/scripts/test_nightly.py runs every step's command line as a non-root user with passwordless sudo
# and GITHUB_* set; tests/e2e/test_online_mode.py runs `e2e off` and `gate` for real through a local mirror).
#
#   bash scripts/nightly.sh matrix [KEDA]                      # the cells, as JSON (GITHUB_OUTPUT matrix=...)
#   bash scripts/nightly.sh setup                              # bootstrap (sudo where root is needed), tools
#   bash scripts/nightly.sh build    MODE KEDA FROM K8S        # offline: build both KEDAs and the node (cached)
#   bash scripts/nightly.sh baseline MODE FROM K8S [ARGS]      # FROM's default scenario, --repeat 3: this
#                                                              #   runner's own baseline, in artifacts/baseline/
#   bash scripts/nightly.sh plan     MODE KEDA FROM K8S [ARGS] # print what `e2e` would run, run nothing
#   bash scripts/nightly.sh e2e      MODE KEDA FROM K8S [ARGS] # the full e2e tier on KEDA (upgrade test: FROM)
#   bash scripts/nightly.sh nodes    MODE KEDA K8S [ARGS]      # test_node_loss on a cluster of 2 worker nodes;
#                                                              #   fails when it did not run (a skip is no pass)
#   bash scripts/nightly.sh ran      JUNIT                     # exit 1 unless a test of JUNIT ran (not skipped)
#   bash scripts/nightly.sh gate     KEDA FROM [BASELINE]      # KEDA's run against the baseline: verdict to
#                                                              #   stdout, JUnit, $GITHUB_STEP_SUMMARY; exit 1 on FAIL
#   bash scripts/nightly.sh link     URL                       # the uploaded artifact's link into the summary
#   bash scripts/nightly.sh mutants                            # tox -e mutants (offline: KEDA mutants are built)
#   bash scripts/nightly.sh collect                            # build logs into artifacts/ for upload
#
# MODE is on (offline: everything built from source) or off (online: the official images and release
# manifests; CKE_REGISTRY_MIRROR and CKE_KEDA_MANIFEST, with {version}, point them elsewhere). ARGS go to pytest
# after the script's own (e.g. one test file). CKE_NIGHTLY_DRY_RUN=1 makes build/baseline/e2e/nodes/mutants print
# their command and run nothing (the unit test of the workflow).
#
# Why a baseline per run: the gate compares times, and a GitHub runner's are not this machine's; so each cell
# records the release it upgrades from on the same runner, in the same job, just before the candidate runs.
set -euo pipefail
SELF=$(readlink -f "$0")   # for a re-run under sg docker, wherever this was started from
cd "$(dirname "$0")/.."
CACHE=${CKE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/celery-keda-e2e}
ARTIFACTS=${CKE_ARTIFACTS_DIR:-artifacts}
BASELINE_REPEAT=${CKE_BASELINE_REPEAT:-3}
say() { printf 'nightly: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }
pin() { bash -c "set -a; . offline/versions.env; . offline/addons.env; echo \"\${$1}\""; }
tools() {  # go, tox and the built tools on PATH (written by bootstrap)
  # shellcheck disable=SC1090
  source "$(bash scripts/bootstrap.sh --env)"
}
docker_step() {  # SUBCOMMAND ARGS...: tools on PATH, and Docker reached (else this subcommand again under sg docker)
  tools
  # shellcheck source=scripts/lib.sh
  . scripts/lib.sh
  reach_docker_or_reexec bash "$SELF" "$@"
}
run_or_print() {  # the command, unless this is the workflow's dry run
  say "$*"
  if [ -n "${CKE_NIGHTLY_DRY_RUN:-}" ]; then say "dry run: not run"; return 0; fi
  "$@"
}
version_arg() { [[ $2 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$1 '$2' is not a version like 2.21.0"; }
mode_arg() { case "$1" in on|off) ;; *) die "MODE '$1': on (offline) or off (online)" ;; esac; }
k8s_arg() { [[ $1 =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "K8S '$1' is not a version like v1.34.4"; }

case "${1:-}" in
  matrix)
    # Each cell is a candidate and the release it upgrades from (and is gated against): the pin from the
    # previous pin, the previous pin from the one before it, and a dispatched version from the pin.
    keda=$(pin KEDA_VERSION) prev=$(pin KEDA_PREVIOUS_VERSION) before=$(pin KEDA_BEFORE_PREVIOUS_VERSION)
    k8s=$(pin K8S_VERSION) dispatched=${2:-}
    cells=("{\"keda\":\"$keda\",\"from\":\"$prev\",\"k8s\":\"$k8s\",\"mutants\":true}"
           "{\"keda\":\"$prev\",\"from\":\"$before\",\"k8s\":\"$k8s\",\"mutants\":false}")
    if [ -n "$dispatched" ]; then
      version_arg "the dispatched KEDA" "$dispatched"
      [ "$dispatched" != "$keda" ] || die "the dispatched KEDA $dispatched is the pin, which every night runs already"
      cells+=("{\"keda\":\"$dispatched\",\"from\":\"$keda\",\"k8s\":\"$k8s\",\"mutants\":false}")
    fi
    json="{\"include\":[$(IFS=,; echo "${cells[*]}")]}"
    echo "$json"
    [ -z "${GITHUB_OUTPUT:-}" ] || echo "matrix=$json" >>"$GITHUB_OUTPUT"
    ;;
  setup)
    bash scripts/bootstrap.sh   # Debian packages and Docker through sudo, the docker group, Go and tox
    tools
    # The pinned kind, kubectl and kustomize, both modes (a runner's own are not the pinned ones): Go builds.
    python3 -m offline.build kind kubectl kustomize
    if [ -n "${GITHUB_PATH:-}" ]; then  # later steps of the job see the tools
      printf '%s\n' "$CACHE/bin" "$CACHE/go/bin" "$CACHE/venv/bin" >>"$GITHUB_PATH"
    fi
    # bootstrap may have just added this user to the docker group: later steps are new shells, but of the
    # same login session, so they reach Docker through sg (scripts/lib.sh) like this one would.
    say "tools on PATH with: source $(bash scripts/bootstrap.sh --env)"
    ;;
  build)
    mode=${2:?MODE} keda=${3:?KEDA} from=${4:?FROM} k8s=${5:?K8S}
    mode_arg "$mode"; version_arg KEDA "$keda"; version_arg FROM "$from"; k8s_arg "$k8s"
    tools
    if [ "$mode" = off ]; then say "online: nothing to build (setup built the tools)"; exit 0; fi
    run_or_print python3 -m offline.build --keda-version "$from" --k8s-version "$k8s"
    run_or_print python3 -m offline.build --keda-version "$keda" --k8s-version "$k8s"
    ;;
  baseline)
    mode=${2:?MODE} from=${3:?FROM} k8s=${4:?K8S}
    shift 4
    mode_arg "$mode"; version_arg FROM "$from"; k8s_arg "$k8s"
    docker_step baseline "$mode" "$from" "$k8s" "$@"
    # --keda-from is the candidate's own pair end; the baseline run never swaps KEDA, it only needs a valid one.
    run_or_print env CKE_ARTIFACTS_DIR="$ARTIFACTS/baseline" tox -e e2e -- --offline="$mode" --keda-version="$from" \
      --keda-from="$from" --k8s-version="$k8s" --repeat="$BASELINE_REPEAT" \
      --results-file="$ARTIFACTS/baseline/result.json" --junitxml="$ARTIFACTS/baseline/junit.xml" \
      tests/e2e/test_default_scenario.py "$@"
    ;;
  plan|e2e)
    sub=$1 mode=${2:?MODE (on|off)} keda=${3:?KEDA version} from=${4:?FROM version} k8s=${5:?Kubernetes version}
    shift 5
    mode_arg "$mode"; version_arg KEDA "$keda"; version_arg FROM "$from"; k8s_arg "$k8s"
    [ "$keda" != "$from" ] || die "KEDA and FROM are both $keda: the upgrade test needs another release"
    tools
    args=(--offline="$mode" --keda-version="$keda" --keda-from="$from" --k8s-version="$k8s"
          --results-file="$ARTIFACTS/result.json" "$@")
    # The nightly runs the whole e2e tier, the slow KEDA-feature scenarios included (tox -e e2e-full).
    if [ "$sub" = plan ]; then say "tox -e e2e-full -- ${args[*]}"; exit 0; fi
    docker_step e2e "$mode" "$keda" "$from" "$k8s" "$@"
    run_or_print tox -e e2e-full -- "${args[@]}"
    ;;
  nodes)
    mode=${2:?MODE} keda=${3:?KEDA} k8s=${4:?K8S}
    shift 4
    mode_arg "$mode"; version_arg KEDA "$keda"; k8s_arg "$k8s"
    docker_step nodes "$mode" "$keda" "$k8s" "$@"
    # Its own cluster, two worker nodes beside the control plane: the e2e step's one-node cluster skips it. Its
    # result file is its own (the gate reads the e2e step's).
    run_or_print env CKE_ARTIFACTS_DIR="$ARTIFACTS/nodes" tox -e e2e-slow -- --offline="$mode" --keda-version="$keda" \
      --k8s-version="$k8s" --nodes=2 --results-file="$ARTIFACTS/nodes/result.json" \
      --junitxml="$ARTIFACTS/nodes/junit.xml" -rs tests/e2e/test_node_loss.py "$@"
    # The test skips itself on one node: here a skip is a failure.
    if [ -z "${CKE_NIGHTLY_DRY_RUN:-}" ]; then bash "$SELF" ran "$ARTIFACTS/nodes/junit.xml"; fi
    ;;
  ran)
    junit=${2:?JUNIT}
    python3 - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
except (OSError, ET.ParseError) as e:
    sys.exit(f"nightly: ERROR: {sys.argv[1]}: no JUnit to read ({e})")
skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
if not cases or len(skipped) == len(cases):
    sys.exit(f"nightly: ERROR: {sys.argv[1]}: nothing ran ({len(cases)} test(s), skipped: {', '.join(skipped) or '-'})")
print(f"nightly: {sys.argv[1]}: {len(cases) - len(skipped)} of {len(cases)} test(s) ran", file=sys.stderr)
PY
    ;;
  gate)
    keda=${2:?KEDA} from=${3:?FROM} baseline=${4:-$ARTIFACTS/baseline/result.json}
    version_arg KEDA "$keda"; version_arg FROM "$from"
    mode=$(python3 -c 'import json,sys; print("offline" if json.load(open(sys.argv[1])).get("offline") else "online")' \
             "$ARTIFACTS/result.json" 2>/dev/null || echo "no result")
    summary=${GITHUB_STEP_SUMMARY:-$ARTIFACTS/gate-summary.md}
    say "gate: KEDA $keda against $baseline (KEDA $from); JUnit $ARTIFACTS/junit-gate.xml, summary $summary"
    # The gate reads result files only (stdlib): any python3 runs it.
    python3 -m fixtures.report.gate --baseline "$baseline" "$ARTIFACTS/result.json" \
      --junit "$ARTIFACTS/junit-gate.xml" --summary "$summary" --title "KEDA $keda against $from ($mode)"
    ;;
  link)
    url=${2:-}
    summary=${GITHUB_STEP_SUMMARY:-$ARTIFACTS/gate-summary.md}
    if [ -n "$url" ]; then
      printf '\nEverything this job recorded (result.json, JUnit, timelines, diagnostics, build logs): [download](%s)\n' \
        "$url" >>"$summary"
    else
      printf '\nNo artifact was uploaded: see the job log.\n' >>"$summary"
    fi
    ;;
  mutants)
    tools
    run_or_print tox -e mutants -- --offline=on
    ;;
  collect)
    mkdir -p "$ARTIFACTS/build-logs"
    cp -r "$CACHE/logs/." "$ARTIFACTS/build-logs/" 2>/dev/null || say "no build logs in $CACHE/logs"
    if [ -f "$CACHE/last-build.json" ]; then cp "$CACHE/last-build.json" "$ARTIFACTS/build-logs/"; fi
    ;;
  *)
    sed -n '2,27p' "$0" >&2; exit 2 ;;
esac
