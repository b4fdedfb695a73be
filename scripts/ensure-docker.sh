#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine. Idempotent, and it never
# replaces an engine: one that answers is left alone; one that is installed but
# stopped (Debian's docker.io, Docker's docker-ce, moby-engine...) is started;
# only a machine with no engine at all gets Debian's docker.io. Where the host's
# capability bounding set lacks CAP_SYS_RESOURCE (privileged containers then
# fail with "unable to apply caps"), registers a runc wrapper that drops that
# one capability (merged into an existing daemon.json, which is backed up).
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A machine restored from a snapshot, or a dockerd killed without cleanup,
# leaves docker.pid behind and dockerd then refuses to start ("pid file found").
# Prints "none", "live:PID" (a running dockerd owns it) or "stale:PID".
pidfile_state() {
  [ -f "$1" ] || { echo none; return; }
  local pid; pid=$(tr -dc '0-9' <"$1")
  # A dockerd just killed stays a zombie until reaped, and one in a container
  # is not ours: neither is live.
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && host_process_alive "$pid"; then
    echo "live:$pid"
  else
    echo "stale:${pid:-empty}"
  fi
}
# Is this pid a live (not zombie) process of the host's, not one inside a
# container? A running kind node has its own `containerd`, visible from here.
host_process_alive() {
  [ -d "/proc/$1" ] || return 1
  grep -qE '^State:\s+[ZX]' "/proc/$1/status" 2>/dev/null && return 1
  [ "$(readlink "/proc/$1/ns/mnt" 2>/dev/null)" = "$(readlink /proc/self/ns/mnt)" ]
}
# Is a host process with this exact name running?
alive_process() {
  local pid
  for pid in $(pgrep -x "$1"); do
    host_process_alive "$pid" && return 0
  done
  return 1
}
clear_stale_pidfile() {
  log "removing stale $1 ($(pidfile_state "$1" | cut -d: -f2) is not a running dockerd)"
  rm -f "$1"
}
# What to do about the engine: "running" (it answers: touch nothing), "start"
# (a dockerd is installed, from whichever package), "install" (no engine at all:
# Debian's docker.io), or "refuse:<why>" (an engine package without its dockerd:
# installing docker.io over it would conflict or replace it).
engine_plan() {
  if docker info >/dev/null 2>&1; then echo running; return; fi
  if command -v dockerd >/dev/null 2>&1; then echo start; return; fi
  local p
  for p in docker-ce moby-engine docker-engine podman-docker; do
    if dpkg -s "$p" >/dev/null 2>&1; then echo "refuse:$p is installed but no dockerd is on PATH"; return; fi
  done
  echo install
}
# daemon.json with the runc-nosysresource runtime as the default, keeping every
# other setting of an existing file (stdin: the file's text, or nothing).
merge_daemon_json() {
  local current; current=$(cat)
  [ -n "${current//[[:space:]]/}" ] || current='{}'
  jq '(.runtimes //= {}) | .runtimes["runc-nosysresource"] = {"path": "/usr/local/sbin/runc-nosysresource"}
      | .["default-runtime"] = "runc-nosysresource"' <<<"$current"
}
# Sourced by the unit tests for the functions above only.
[ "${ENSURE_DOCKER_FUNCTIONS_ONLY:-0}" = 1 ] && return 0

plan=$(engine_plan)
case "$plan" in
  running) log "engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null)): left as it is"; exit 0 ;;
  refuse:*) die "${plan#refuse:}: not installing Debian's docker.io over it; repair that engine, then run this again" ;;
esac
if [ "$(id -u)" != 0 ]; then
  die "no Docker engine answers and this is not root: run this script with sudo (or start Docker yourself)"
fi
if [ "$plan" = install ]; then
  command -v apt-get >/dev/null 2>&1 || die "no dockerd and no apt-get: install a Docker engine by hand"
  log "no Docker engine on this machine: installing docker.io from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io jq >/tmp/ensure-docker-apt.log 2>&1 \
    || { tail -20 /tmp/ensure-docker-apt.log >&2; die "apt-get install docker.io failed (log: /tmp/ensure-docker-apt.log)"; }
else
  log "dockerd is installed ($(command -v dockerd)) but does not answer: starting it, not reinstalling"
fi
command -v jq >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq >/dev/null 2>&1 \
  || die "jq is needed for the runc wrapper and could not be installed"

# CAP_SYS_RESOURCE is bit 24 of CapBnd.
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
mkdir -p /etc/docker
if (( (16#$capbnd >> 24 & 1) == 0 )); then
  log "CapBnd=$capbnd lacks CAP_SYS_RESOURCE: registering the runc-nosysresource runtime"
  cat >/usr/local/sbin/runc-nosysresource <<'WRAP'
#!/usr/bin/env bash
# runc wrapper: drop CAP_SYS_RESOURCE (absent from this host's bounding set)
# from the OCI spec of create/run (--bundle) and from exec's --process file.
strip() {
  [ -f "$1" ] || return 0
  local tmp; tmp=$(mktemp "$1.XXXX")
  jq '(if .process then .process else . end) |=
        (if .capabilities then .capabilities |= with_entries(.value |= (if type == "array" then map(select(. != "CAP_SYS_RESOURCE")) else . end)) else . end)' \
     "$1" >"$tmp" && mv "$tmp" "$1"
}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --bundle|-b) strip "${args[$((i + 1))]}/config.json" ;;
    --bundle=*) strip "${args[$i]#--bundle=}/config.json" ;;
    --process|-p) strip "${args[$((i + 1))]}" ;;
    --process=*) strip "${args[$i]#--process=}" ;;
  esac
done
exec /usr/sbin/runc "$@"
WRAP
  chmod 0755 /usr/local/sbin/runc-nosysresource
  if [ -s /etc/docker/daemon.json ] && ! grep -q runc-nosysresource /etc/docker/daemon.json; then
    cp /etc/docker/daemon.json /etc/docker/daemon.json.before-cke
    log "merging the runtime into /etc/docker/daemon.json (the old one: /etc/docker/daemon.json.before-cke)"
  fi
  current=$(cat /etc/docker/daemon.json 2>/dev/null || true)
  merged=$(merge_daemon_json <<<"$current") || die "/etc/docker/daemon.json is not JSON: fix it, then run this again"
  printf '%s\n' "$merged" >/etc/docker/daemon.json
else
  log "CapBnd=$capbnd has CAP_SYS_RESOURCE: plain runc"
fi

if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl enable --now containerd >/dev/null 2>&1 || true
  systemctl restart docker || die "systemctl restart docker failed: journalctl -u docker"
else
  pidfile=${DOCKER_PIDFILE:-/var/run/docker.pid}
  state=$(pidfile_state "$pidfile")
  if [ "${state%%:*}" = live ]; then
    # Give a dockerd that is starting (or dying) 30 s to make up its mind.
    log "dockerd (pid ${state#live:}) is already running: waiting up to 30 s for it to answer"
    for _ in $(seq 1 30); do
      docker info >/dev/null 2>&1 && { log "engine running"; exit 0; }
      state=$(pidfile_state "$pidfile")
      [ "${state%%:*}" = live ] || break
      sleep 1
    done
    [ "${state%%:*}" = live ] && die "dockerd (pid ${state#live:}) runs but does not answer: see /var/log/dockerd.log, stop it (kill ${state#live:}) and run this again"
  fi
  [ "${state%%:*}" = stale ] && clear_stale_pidfile "$pidfile"
  log "starting containerd and dockerd in the background (logs: /var/log/containerd.log, /var/log/dockerd.log)"
  # The socket file can be stale too: wait for containerd to answer, and start
  # one whenever none is alive (one that was just killed is not).
  containerd_up=false
  for _ in $(seq 1 60); do
    if ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then containerd_up=true; break; fi
    alive_process containerd || (nohup containerd >>/var/log/containerd.log 2>&1 &)
    sleep 0.5
  done
  if ! $containerd_up; then
    tail -20 /var/log/containerd.log >&2 || true
    die "containerd did not answer within 30 s (log: /var/log/containerd.log)"
  fi
  nohup dockerd --containerd=/run/containerd/containerd.sock >/var/log/dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "engine running ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
tail -20 /var/log/dockerd.log >&2 || true
die "dockerd did not answer within 60 s (log: /var/log/dockerd.log)"
