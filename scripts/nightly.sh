#!/usr/bin/env bash
# The nightly workflow's steps, one subcommand each, so what GitHub runs is what runs here
# (tests/unit/test_nightly_script.py runs `setup` and `plan` as a non-root user with passwordless
# sudo in the docker group: the GitHub runner's situation).
#
#   bash scripts/nightly.sh setup                       # bootstrap (sudo where root is needed), kind, kustomize
#   bash scripts/nightly.sh plan  MODE KEDA K8S [ARGS]  # print what `e2e` would run, run nothing
#   bash scripts/nightly.sh e2e   MODE KEDA K8S [ARGS]  # the full e2e tier; the gate when a baseline fits
#   bash scripts/nightly.sh mutants                     # tox -e mutants (offline: KEDA mutants are built)
#   bash scripts/nightly.sh collect                     # build logs into artifacts/ for upload
#
# MODE is on (offline: everything built from source) or off (online: the official images and
# release manifest; CKE_REGISTRY_MIRROR and CKE_KEDA_MANIFEST point them elsewhere). ARGS go to pytest
# after the script's own (e.g. one test file: tests/e2e/test_online_mode.py runs `e2e off` that way).
# The gate runs against docs/results/baseline-<KEDA_PREVIOUS_VERSION>-<offline|online>.json when that
# file exists and was made in the same mode on the same Kubernetes version (else it says why not).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CKE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/celery-keda-e2e}
say() { printf 'nightly: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -E "$@"; fi; }

pin() { bash -c "set -a; . offline/versions.env; . offline/addons.env; echo \"\${$1}\""; }

baseline_args() {  # the gate's --baseline, when a stored baseline fits this cell
  local mode=$1 k8s=$2 prev file
  prev=$(pin KEDA_PREVIOUS_VERSION)
  file=docs/results/baseline-$prev-$([ "$mode" = on ] && echo offline || echo online).json
  if [ ! -f "$file" ]; then say "gate: no stored baseline $file"; return; fi
  if ! python3 - "$file" "$mode" "$k8s" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))
runs = runs if isinstance(runs, list) else [runs]
ok = all(r.get("offline") == (sys.argv[2] == "on") and r.get("k8s_version") == sys.argv[3] for r in runs)
sys.exit(0 if ok else 1)
PY
  then say "gate: $file was made in another mode or on another Kubernetes than offline=$mode $k8s: not compared"; return; fi
  echo "--baseline=$file"
}

case "${1:-}" in
  setup)
    as_root bash scripts/bootstrap.sh --system   # Debian packages, Docker
    bash scripts/bootstrap.sh --user             # Go and tox in this user's cache
    env_file=$(bash scripts/bootstrap.sh --env)
    # The pinned kind and kustomize, both modes (a runner's own kind is not the pinned one): Go builds, cached.
    # shellcheck disable=SC1090
    (source "$env_file" && python3 -m offline.build kind kustomize)
    if [ -n "${GITHUB_PATH:-}" ]; then  # later steps of the job see the tools
      printf '%s\n' "$CACHE/bin" "$CACHE/go/bin" "$CACHE/venv/bin" >>"$GITHUB_PATH"
    fi
    say "tools on PATH with: source $env_file"
    ;;
  plan|e2e)
    sub=$1 mode=${2:?MODE (on|off)} keda=${3:?KEDA version} k8s=${4:?Kubernetes version}
    shift 4
    # shellcheck disable=SC1090
    source "$(bash scripts/bootstrap.sh --env)"
    args=(--offline="$mode" --keda-version="$keda" --k8s-version="$k8s" --results-file=artifacts/result.json)
    [ "$keda" = "$(pin KEDA_VERSION)" ] && mapfile -t -O ${#args[@]} args < <(baseline_args "$mode" "$k8s")
    # The nightly runs the whole e2e tier, the slow KEDA-feature scenarios included (tox -e e2e-full).
    args+=("$@")
    say "tox -e e2e-full -- ${args[*]}"
    if [ "$sub" = e2e ]; then
      if [ "$mode" = on ]; then python3 -m offline.build --keda-version "$keda" --k8s-version "$k8s"; fi
      tox -e e2e-full -- "${args[@]}"
    fi
    ;;
  mutants)
    # shellcheck disable=SC1090
    source "$(bash scripts/bootstrap.sh --env)"
    tox -e mutants -- --offline=on
    ;;
  collect)
    mkdir -p artifacts/build-logs
    cp -r "$CACHE/logs/." artifacts/build-logs/ 2>/dev/null || say "no build logs in $CACHE/logs"
    [ -f "$CACHE/last-build.json" ] && cp "$CACHE/last-build.json" artifacts/build-logs/
    ;;
  *)
    sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
