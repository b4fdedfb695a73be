#!/usr/bin/env bash
# The README's first command: from a clean clone on a fresh machine to the e2e gate tier (tox -e e2e).
#   bash scripts/e2e.sh [pytest options, e.g. --keda-version 2.20.2]      (as root, or a user with sudo)
# 1. bootstrap.sh: Debian packages, Docker (an engine that answers is left alone), the docker group, Go, tox;
# 2. the mode: online when Docker Hub, ghcr.io and GitHub answer (common/online.py), else offline;
#    CKE_OFFLINE=on|off decides instead;
# 3. the tools: online needs only the pinned kind, kubectl and kustomize (Go builds from the module proxy,
#    a few minutes cold); offline builds every image from source (about 20 minutes cold, cached after);
# 4. tox -e e2e: creates the kind cluster, installs KEDA, runs the gate tier, deletes the cluster.
set -euo pipefail
SELF=$(readlink -f "$0")   # for a re-run under sg docker, wherever this was started from
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
[ -n "${CKE_UNDER_SG:-}" ] || bash scripts/bootstrap.sh
reach_docker_or_reexec bash "$SELF" "$@"
# shellcheck disable=SC1090
source "$(bash scripts/bootstrap.sh --env)"

mode=${CKE_OFFLINE:-$(python3 -m common.online)}
case "$mode" in
  off) echo "e2e.sh: online mode: the pinned kind, kubectl and kustomize, images from their registries" >&2
       python3 -m offline.build kind kubectl kustomize ;;
  on)  echo "e2e.sh: offline mode: every image built from source (cached after the first run)" >&2
       python3 -m offline.build ;;
  *)   echo "e2e.sh: CKE_OFFLINE=$mode: use on or off" >&2; exit 2 ;;
esac
echo "e2e.sh: tox -e e2e -- --offline=$mode $*" >&2
exec tox -e e2e -- --offline="$mode" "$@"
