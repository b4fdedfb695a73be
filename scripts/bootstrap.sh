#!/usr/bin/env bash
# Everything the suite needs on a stock Debian 12 (or Ubuntu) machine, from nothing: `.ci/run` and
# `scripts/e2e.sh` (the README's two commands) start with it. Idempotent; prints what it installed, what
# was already there and what it did about the user's access to Docker.
#
#   bash scripts/bootstrap.sh             # as root, or as a user with sudo (the system part goes through sudo)
#   source "$(bash scripts/bootstrap.sh --env)"      # go, tox and the built tools on PATH
#
# --system does what needs root, --user what belongs to the user; no flag does both.
# - Debian packages: jq, mmdebstrap and debian-archive-keyring (the offline build's Debian bases, also
#   on Ubuntu), redis-server (the unit tier), python3-venv, python3-yaml, openssl, curl, unzip, sudo,
#   patch, shellcheck (tox -e lint).
# - Docker: scripts/ensure-docker.sh. An engine that answers is left alone, an installed one is started,
#   and only a machine without any engine gets Debian's docker.io (never installed over docker-ce).
#   A sudo user not yet in the `docker` group is added to it; this run's own processes reach Docker
#   through `sg docker` (scripts/lib.sh), later logins have the group.
# - Go $GO_VERSION when no go >= 1.26 is on PATH: the toolchain module the Go module proxy serves
#   (golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-<arch>), unpacked into the cache. Debian 12's
#   golang-go is 1.19, too old for KEDA 2.20+ (go 1.26.0 in its go.mod) and for kind v0.33.0.
# - tox in a virtual environment in the cache (a stock Debian 12 refuses `pip install` into the
#   system Python: PEP 668).
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

if [ "$part" != --user ] && [ "$(id -u)" != 0 ]; then
  # The system part as root, through sudo (it asks for a password when sudo needs one).
  command -v sudo >/dev/null || { log "not root and no sudo: run \`bash scripts/bootstrap.sh --system\` as root first"; exit 1; }
  log "system part through sudo (Debian packages, Docker, the docker group for $(id -un))"
  sudo bash scripts/bootstrap.sh --system
  [ "$part" = --system ] && exit 0
  part=--user
fi

if [ "$part" != --user ]; then
APT_LOG=/var/log/celery-keda-e2e-bootstrap-apt.log   # root's, not in a user's cache
if command -v apt-get >/dev/null; then
  missing=()
  for p in jq mmdebstrap debian-archive-keyring redis-server python3-venv python3-yaml openssl curl unzip sudo patch \
           shellcheck; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -q >/dev/null 2>&1 || log "apt-get update failed; trying the install with the lists there are"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$APT_LOG" 2>&1 \
      || { tail -20 "$APT_LOG" >&2; log "apt-get install failed (log: $APT_LOG)"; exit 1; }
  else
    log "Debian packages present"
  fi
else
  log "no apt-get: assuming jq, mmdebstrap, redis-server, python3-venv, shellcheck are installed"
fi
bash scripts/ensure-docker.sh
# The user who asked (sudo's SUDO_USER) reaches Docker without sudo: the docker group.
user=${SUDO_USER:-}
if [ -n "$user" ] && [ "$user" != root ] && getent group docker >/dev/null; then
  if id -nG "$user" | tr ' ' '\n' | grep -qx docker; then
    log "$user is in the docker group"
  else
    usermod -aG docker "$user"
    log "added $user to the docker group: new logins have it; scripts/e2e.sh and .ci/run reach Docker through \`sg docker\` until then"
  fi
fi
fi
[ "$part" = --system ] && { log "system part done"; exit 0; }
mkdir -p "$CACHE"   # a fresh HOME has no ~/.cache yet

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
