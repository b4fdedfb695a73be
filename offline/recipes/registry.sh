#!/usr/bin/env bash
# version: $REGISTRY_VERSION
# deps:
# The OCI registry (distribution v3, github.com/distribution/distribution/v3/cmd/registry, no replace
# lines: the same program kind's docs run as `registry:3`) into $OUT/registry. offline/mirror.py runs it
# as the local stand-in for docker.io, ghcr.io and registry.k8s.io that online mode pulls through
# (--registry-mirror), filled with the offline build's images under their upstream names.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v="${VERSION:-$REGISTRY_VERSION}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
GOBIN="$OUT" go install -trimpath -ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=$v" \
  "github.com/distribution/distribution/v3/cmd/registry@$v" || die "go install distribution/v3/cmd/registry@$v failed"
"$OUT/registry" --version | grep -qF "$v" || die "built registry does not run or report $v"
: >"$OUT/images"
