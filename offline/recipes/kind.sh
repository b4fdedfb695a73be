#!/usr/bin/env bash
# version: $KIND_VERSION
# deps:
# kind CLI from the Go module proxy (sigs.k8s.io/kind has no replace lines).
set -euo pipefail
v="${VERSION:-$KIND_VERSION}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
GOBIN="$OUT" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$v" \
  || { echo "kind: go install sigs.k8s.io/kind@$v failed" >&2; exit 1; }
"$OUT/kind" version | grep -q "${v#v}" || { echo "kind: built binary does not report $v" >&2; exit 1; }
: >"$OUT/images"
