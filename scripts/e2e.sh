#!/usr/bin/env bash
# One command from a clean clone to a green (or honestly red) e2e run:
# start Docker (installing Debian's docker.io if needed), build what is missing
# from source, create the cluster, install KEDA, run the scenarios, delete it.
#   sudo bash scripts/e2e.sh [extra pytest options, e.g. --keda-version 2.20.2]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  for p in jq mmdebstrap; do
    dpkg -s "$p" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p" >/dev/null
  done
fi
command -v tox >/dev/null || python3 -m pip install -q 'tox>=4.11'
export PATH="${CKE_CACHE_DIR:-$HOME/.cache/celery-keda-e2e}/bin:$PATH"
exec tox -e e2e -- --offline=on "$@"
