#!/usr/bin/env bash
# version: $KUSTOMIZE_VERSION
# deps:
# kustomize CLI (sigs.k8s.io/kustomize/kustomize/v5) into $OUT/kustomize, used to
# render KEDA's release manifests. Two snags with v5.8.3 on this machine:
# - its go.mod says `go 1.27.0`, newer than the local Go 1.26: GOTOOLCHAIN is set to
#   that go line, so `go` fetches the toolchain as the Go module golang.org/toolchain
#   from the Go proxy (checksummed by sum.golang.org);
# - kyaml v0.21.3 requires k8s.io/kube-openapi v0.0.0-20261001230523-97fa35140926,
#   which the proxy refuses (403): built from a writable copy of the module with a
#   replace to the newest kube-openapi the proxy serves (KUSTOMIZE_KUBE_OPENAPI).
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v=${VERSION:-$KUSTOMIZE_VERSION}
openapi=${KUSTOMIZE_KUBE_OPENAPI:-v0.0.0-20260821135717-be32def86098}
mod=sigs.k8s.io/kustomize/kustomize/v5@$v
# (with the local Go, `go mod download` reports the newer go line as an error, yet fetches go.mod)
gomod=$(GOTOOLCHAIN=local go_mod_field GoMod "$mod" 2>/dev/null) || true
[ -f "$gomod" ] || die "cannot fetch go.mod of $mod"
gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
local_go=$(GOTOOLCHAIN=local go env GOVERSION); local_go=${local_go#go}
if [ "$(printf '%s\n' "$gover" "$local_go" | sort -V | tail -n1)" = "$local_go" ]; then
  export GOTOOLCHAIN=local
else
  export GOTOOLCHAIN=go$gover
fi
dir=$(go_mod_dir "$mod")
writable_copy "$dir" "$WORK/src"; cd "$WORK/src"
go mod edit -replace "k8s.io/kube-openapi=k8s.io/kube-openapi@$openapi"
CGO_ENABLED=0 go build -mod=mod -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/$v" \
  -o "$OUT/kustomize" . || die "go build $mod failed (GOTOOLCHAIN=$GOTOOLCHAIN)"
"$OUT/kustomize" version | grep -qF "$v" || die "built binary does not run or report $v"
