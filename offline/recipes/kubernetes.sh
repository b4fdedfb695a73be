#!/usr/bin/env bash
# version: $K8S_VERSION
# deps:
# Kubernetes server/client binaries (kubeadm kubelet kubectl kube-apiserver
# kube-controller-manager kube-scheduler kube-proxy) from the Go module proxy.
# k8s.io/kubernetes replaces its staging modules with ./staging paths, so build
# from a wrapper module that requires it and pins every staging module to the
# published v0.X.Y.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v="${VERSION:-$K8S_VERSION}"
v="v${v#v}"
minor="${v#v1.}"; minor="${minor%%.*}"
staging_v="v0.${v#v1.}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local

kdir=$(go_mod_dir "k8s.io/kubernetes@$v")
[ -f "$kdir/go.mod" ] || die "module dir for $v not found"

w="$WORK/wrapper"; mkdir -p "$w"
{
  echo "module offline.local/kubernetes-build"
  echo
  grep -E '^go [0-9]' "$kdir/go.mod"
  grep -E '^godebug ' "$kdir/go.mod" || true
  echo
  echo "require k8s.io/kubernetes $v"
  echo
  echo "replace ("
  # every "k8s.io/x => ./staging/src/k8s.io/x" becomes "k8s.io/x => k8s.io/x v0.Y.Z"
  sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/k8s\.io/.*#\t\1 => \1 '"$staging_v"'#p' "$kdir/go.mod"
  echo ")"
} >"$w/go.mod"
pkgs=(cmd/kubeadm cmd/kubelet cmd/kubectl cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kube-proxy)
{
  echo "//go:build tools"
  echo
  echo "package tools"
  echo
  echo "import ("
  for p in "${pkgs[@]}"; do echo "	_ \"k8s.io/kubernetes/$p\""; done
  echo ")"
} >"$w/tools.go"

cd "$w"
go mod tidy >/dev/null 2>"$WORK/tidy.log" || { cat "$WORK/tidy.log" >&2; die "go mod tidy of the wrapper module failed"; }

build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
done
start=$(date +%s)
go build -trimpath -ldflags "$ld" -o "$OUT/" "${pkgs[@]/#/k8s.io/kubernetes/}" \
  || die "go build failed"
echo "kubernetes: go build took $(( $(date +%s) - start ))s" >&2
"$OUT/kubeadm" version -o short | grep -qx "$v" || die "kubeadm does not report $v"
: >"$OUT/images"
