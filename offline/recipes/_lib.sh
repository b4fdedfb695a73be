# The preamble every recipe sources first: `. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"`.
# Not a recipe itself (offline/recipes.py skips names starting with `_`); its
# text is part of every recipe's cache key, so a change here rebuilds them all.
# It gives: strict mode, the pins of offline/*.env (already in the environment
# when `python -m offline.build` runs a recipe; sourced here so a recipe also
# runs by hand), `die`, `writable_copy`, `docker_build_quiet` and the Go module
# helpers `go_mod_dir` / `go_mod_field`.
set -euo pipefail

# This recipe's component: its file name, as `python -m offline.build` calls it.
component=${BASH_SOURCE[1]:-$0}; component=${component##*/}; component=${component%.sh}
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
. "$REPO/offline/versions.env"
. "$REPO/offline/addons.env"

# die MESSAGE...: one line on stderr, prefixed with the component, then exit 1.
die() { echo "$component: $*" >&2; exit 1; }

# writable_copy SRC DEST: copy a directory (a module from the read-only Go module cache) and make it writable.
writable_copy() { cp -r "$1" "$2" && chmod -R u+w "$2"; }

# docker_build_quiet IMAGE CONTEXT: `docker build -q -t IMAGE CONTEXT`, its output in
# $WORK/docker-build.log; on failure die with the log's last line.
docker_build_quiet() {
  docker build -q -t "$1" "$2" >"$WORK/docker-build.log" 2>&1 \
    || die "docker build of $1 failed: $(tail -n1 "$WORK/docker-build.log")"
}

# _json_field FIELD: that field of the JSON object on stdin, empty when absent.
_json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1"; }

# go_mod_field FIELD MODULE@VERSION: one field (Dir, GoMod, Zip, ...) of `go mod download -json`.
# The field counts even when Go also reports an Error (a module whose go line is newer than
# the local Go: its go.mod is fetched all the same); without it, die naming the module and
# Go's Error. Use it as `x=$(go_mod_field ...)`: a failure ends the recipe (set -e).
go_mod_field() {
  local json value err
  json=$(go mod download -json "$2") || true
  value=$(_json_field "$1" <<<"$json" 2>/dev/null) || value=""
  if [ -z "$value" ]; then
    err=$(_json_field Error <<<"$json" 2>/dev/null) || err=""
    die "go mod download $2 failed: ${err:-no $1 in its answer}"
  fi
  printf '%s\n' "$value"
}

# go_mod_dir MODULE@VERSION: the module's source directory in the Go module cache
# (read-only: build from a writable_copy). A module zip may carry part of a vendor/
# directory (older KEDA, local-path-provisioner): build such a copy with -mod=mod.
go_mod_dir() {
  local dir
  dir=$(go_mod_field Dir "$1") || exit 1
  [ -d "$dir" ] || die "go mod download $1: its Dir $dir is not a directory"
  printf '%s\n' "$dir"
}
