#!/usr/bin/env bash
# Everything the suite needs on a stock Debian 12 machine, from nothing: the README's
# fresh-machine block is this script, and .ci/run runs it. Idempotent; prints what it
# installed and what was already there.
#
#   sudo bash scripts/bootstrap.sh        # then: source "$(bash scripts/bootstrap.sh --env)"
#   sudo bash scripts/bootstrap.sh --system && bash scripts/bootstrap.sh --user   # as a sudo user
#
# --system does what needs root (Debian packages, Docker); --user what belongs to the user (Go and
# tox in the user's cache); no flag does both (as root: CI here).
# - Debian packages: docker.io (started by scripts/ensure-docker.sh), jq, mmdebstrap (the offline
#   build's Debian bases), redis-server (the unit tier), python3-venv, curl, unzip, sudo, patch.
# - Go $GO_VERSION when no go >= 1.26 is on PATH: the toolchain module the Go module proxy serves
#   (golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-<arch>), unpacked into the cache. Debian 12's
#   golang-go is 1.19, too old for KEDA 2.20+ (go 1.26.0 in its go.mod) and for kind v0.33.0.
# - tox in a virtual environment in the cache (a stock Debian 12 refuses `pip install` into the
#   system Python: PEP 668).
# --env prints a file to source that puts go, tox and the built tools on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CKE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/celery-keda-e2e}
GO_VERSION=${GO_VERSION:-1.26.8}
GO_MIN_MINOR=26
GOPROXY_URL=${GOPROXY_URL:-https://proxy.golang.org}
ENV_FILE=$CACHE/env.sh
log() { printf 'bootstrap: %s\n' "$*" >&2; }

write_env() {
  mkdir -p "$CACHE"
  cat >"$ENV_FILE" <<ENV
# written by scripts/bootstrap.sh
export PATH="$CACHE/bin:$CACHE/go/bin:$CACHE/venv/bin:\$PATH"
ENV
}
if [ "${1:-}" = --env ]; then write_env; echo "$ENV_FILE"; exit 0; fi
part=${1:-all}
case "$part" in all|--system|--user) ;; *) log "usage: bootstrap.sh [--system|--user|--env]"; exit 2 ;; esac

if [ "$part" != --user ]; then
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  missing=()
  for p in docker.io jq mmdebstrap redis-server python3-venv python3-yaml openssl curl unzip sudo patch; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -q >/dev/null 2>&1 || log "apt-get update failed; trying the install with the lists there are"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$CACHE.apt.log" 2>&1 \
      || { tail -20 "$CACHE.apt.log" >&2; exit 1; }
  else
    log "Debian packages present"
  fi
else
  log "not root or no apt-get: assuming docker, jq, mmdebstrap, redis-server, python3-venv are installed"
fi
if [ "$(id -u)" = 0 ]; then
  bash scripts/ensure-docker.sh
else
  log "not root: start Docker with \`sudo bash scripts/ensure-docker.sh\` if no engine answers"
fi
fi
[ "$part" = --system ] && { log "system part done"; exit 0; }

go_ok() {  # a go on PATH (or in the cache) new enough for KEDA and kind
  local v; v=$("$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  [ -n "$v" ] && [ "$v" -ge "$GO_MIN_MINOR" ]
}
if command -v go >/dev/null && go_ok "$(command -v go)"; then
  log "go present: $(go version)"
elif [ -x "$CACHE/go/bin/go" ] && go_ok "$CACHE/go/bin/go"; then
  log "go present in the cache: $("$CACHE/go/bin/go" version)"
else
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  zip="$CACHE/go$GO_VERSION.zip"
  url="$GOPROXY_URL/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$arch.zip"
  log "installing Go $GO_VERSION from the module proxy: $url"
  mkdir -p "$CACHE"
  curl -fsSL --retry 3 -o "$zip" "$url"
  rm -rf "$CACHE/go" "$CACHE/go.unpack"
  unzip -q "$zip" -d "$CACHE/go.unpack"
  mv "$CACHE/go.unpack/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" "$CACHE/go"
  rm -rf "$CACHE/go.unpack" "$zip"
  chmod +x "$CACHE/go/bin/"* "$CACHE/go/pkg/tool/"*/* 2>/dev/null || true
  go_ok "$CACHE/go/bin/go" || { log "the unpacked Go does not run"; exit 1; }
  log "go installed: $("$CACHE/go/bin/go" version)"
fi

if [ -x "$CACHE/venv/bin/tox" ]; then
  log "tox present: $("$CACHE/venv/bin/tox" --version | head -1)"
else
  log "installing tox into $CACHE/venv"
  python3 -m venv "$CACHE/venv"
  "$CACHE/venv/bin/pip" install -q --disable-pip-version-check 'tox>=4.11'
fi

write_env
log "ready; put the tools on PATH with: source $ENV_FILE"
