#!/usr/bin/env bash
# Sourced by scripts/e2e.sh and .ci/run (not run on its own).

# reach_docker_or_reexec COMMAND...: return when this process reaches the Docker engine. When it does not,
# but the user is in the `docker` group (bootstrap.sh has just added them: the group reaches new logins
# only), run COMMAND again under `sg docker`, which starts it with that group, and never return.
reach_docker_or_reexec() {
  docker info >/dev/null 2>&1 && return 0
  local me; me=$(id -un)
  if [ "$(id -u)" != 0 ] && [ -z "${CKE_UNDER_SG:-}" ] && id -nG "$me" | tr ' ' '\n' | grep -qx docker; then
    printf '%s\n' "${0##*/}: $me is in the docker group but this session is not yet: continuing under \`sg docker\`" >&2
    export CKE_UNDER_SG=1
    exec sg docker -c "$(printf '%q ' "$@")"
  fi
  printf '%s\n' "${0##*/}: Docker does not answer for $me (docker info failed): scripts/ensure-docker.sh starts it" >&2
  return 1
}
