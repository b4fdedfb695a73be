#!/usr/bin/env bash
# One command from a clean clone to a green (or honestly red) e2e run:
# start Docker (installing Debian's docker.io if needed), build what is missing
# from source, create the cluster, install KEDA, run the scenarios, delete it.
#   bash scripts/e2e.sh [extra pytest options, e.g. --keda-version 2.20.2]   (as root, or a user with sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
# The fresh-machine block (Debian packages, Go, tox in a venv), then the e2e tier.
if [ "$(id -u)" = 0 ]; then bash scripts/bootstrap.sh; else sudo bash scripts/bootstrap.sh --system && bash scripts/bootstrap.sh --user; fi
# shellcheck disable=SC1090
source "$(bash scripts/bootstrap.sh --env)"
exec tox -e e2e -- --offline=on "$@"
