#!/usr/bin/env bash
# version: $K8S_VERSION
# deps:
# kubectl alone, at the node's Kubernetes version, for online mode: a laptop that pulls its images from the
# registries needs the client, not the 18-minute server build (the kubernetes recipe). kubectl's code is the
# published module k8s.io/kubectl (v0.X.Y for v1.X.Y, no replace lines); its `main` is ten lines in
# k8s.io/kubernetes/cmd/kubectl, written here the same way, so only the client's packages are compiled.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v="${VERSION:-$K8S_VERSION}"
v="v${v#v}"
minor="${v#v1.}"; minor="${minor%%.*}"
staging_v="v0.${v#v1.}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local

w="$WORK/kubectl"; mkdir -p "$w"
cat >"$w/main.go" <<'GO'
// The main of k8s.io/kubernetes/cmd/kubectl.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// client auth plugins (exec, oidc), as the released kubectl has them
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
GO
cd "$w"
go mod init offline.local/kubectl >/dev/null 2>&1 || die "go mod init failed"
go get "k8s.io/kubectl@$staging_v" "k8s.io/component-base@$staging_v" "k8s.io/client-go@$staging_v" \
  >"$WORK/get.log" 2>&1 || { tail -5 "$WORK/get.log" >&2; die "go get k8s.io/kubectl@$staging_v failed"; }
go mod tidy >"$WORK/tidy.log" 2>&1 || { tail -5 "$WORK/tidy.log" >&2; die "go mod tidy failed"; }

ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
go build -trimpath -ldflags "$ld" -o "$OUT/kubectl" . || die "go build of kubectl $v failed"
"$OUT/kubectl" version --client -o json | grep -q "\"gitVersion\": \"$v\"" || die "kubectl does not report $v"
: >"$OUT/images"
