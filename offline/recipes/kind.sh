#!/usr/bin/env bash
# version: $KIND_VERSION
# deps:
# kind CLI from the Go module proxy (sigs.k8s.io/kind has no replace lines).
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v="${VERSION:-$KIND_VERSION}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
GOBIN="$OUT" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$v" \
  || die "go install sigs.k8s.io/kind@$v failed"
"$OUT/kind" version | grep -q "${v#v}" || die "built binary does not report $v"
: >"$OUT/images"
