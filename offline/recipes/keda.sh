#!/usr/bin/env bash
# version: $KEDA_VERSION${KEDA_PATCH_ID:+-$KEDA_PATCH_ID}
# deps: debian-base kustomize
# inputs: offline/keda/Dockerfile offline/keda/Dockerfile.adapter offline/keda/Dockerfile.webhooks offline/keda/mkrootfs.sh offline/keda/validate.py
# KEDA operator, metrics API server and admission webhooks images plus the release
# manifests, built from the Go module source of github.com/kedacore/keda/v2 (its
# go.mod has replace directives, so no `go install ...@v`). Mirrors upstream's
# Makefile (`manager`/`adapter`/`webhooks` ldflags, `release` target) and
# Dockerfiles (distroless static:nonroot, USER 65532, same ENTRYPOINTs).
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v=${KEDA_VERSION#v}
# With KEDA_PATCH (python -m offline.build keda --patch FILE), the source is patched and every image
# gets a tag of its own, <version>-<patch id>, so a patched KEDA never stands in for the release.
tag=$v${KEDA_PATCH_ID:+-$KEDA_PATCH_ID}
base=offline.local/debian:${DEBIAN_SUITE:-bookworm}
[ -n "${DEBIAN_BASE_OUT:-}" ] && [ -s "$DEBIAN_BASE_OUT/images" ] && base=$(head -n1 "$DEBIAN_BASE_OUT/images")
docker image inspect "$base" >/dev/null 2>&1 || die "base image $base missing"

# Source: the module zip from the Go proxy, copied writable. Older releases (2.16.1)
# carry part of a vendor/ directory in the zip, which Go would build from by default:
# -mod=mod takes the modules from go.mod instead (the same ones; no-op without vendor/).
mod=github.com/kedacore/keda/v2@v$v
dir=$(go_mod_dir "$mod")
src=$WORK/src
writable_copy "$dir" "$src"
cd "$src"
if [ -n "${KEDA_PATCH:-}" ]; then
  patch -p1 --forward --batch <"$KEDA_PATCH" >&2 || die "patch $KEDA_PATCH does not apply to $mod"
  echo "keda: applied $KEDA_PATCH (tag $tag)" >&2
fi
export GOFLAGS="${GOFLAGS:-} -mod=mod"
# The proxy has no git metadata: the commit is not knowable offline; override with
# KEDA_GIT_COMMIT if you have it.
git_commit=${KEDA_GIT_COMMIT:-v$v-gomodule}

# -trimpath (not in upstream's Makefile) keeps WORK out of the Go build cache keys, so a
# rebuild of the same sources in a new WORK reuses the compiled KEDA packages.
# Makefile `set-version`, then `manager adapter webhooks` (GO_BUILD_VARS, GO_LDFLAGS).
sed -i -e "s@Version[ ]*=.*@Version = \"$v\"@g" version/version.go
go mod download || die "go mod download (deps of $mod) failed"
mkdir -p "$WORK/bin"
ldflags="-X=github.com/kedacore/keda/v2/version.GitCommit=$git_commit -X=github.com/kedacore/keda/v2/version.Version=$v"
t0=$(date +%s)
GO111MODULE=on CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
  go build -trimpath -ldflags "$ldflags" -o "$WORK/bin/" ./cmd/operator ./cmd/adapter ./cmd/webhooks \
  || die "go build of $mod failed"
echo "keda: go build took $(( $(date +%s) - t0 ))s" >&2

# Images: one small build context per image (binary + rootfs script).
: >"$OUT/images"
build_image() { # <Dockerfile> <go binary> <binary name in image> <image>
  local ctx=$WORK/ctx-$3 entry
  mkdir -p "$ctx"
  # The ENTRYPOINT (binary and default flags) is the one of this version's own Dockerfile: 2.16.1's
  # adapter knows --logtostderr/--v, not the --zap-* flags later releases pass (it crash-looped on them).
  entry=$(grep -m1 '^ENTRYPOINT' "$src/$1") || die "no ENTRYPOINT in $mod's $1"
  sed "s|^ENTRYPOINT .*|$entry|" "$REPO/offline/keda/$1" >"$ctx/Dockerfile"
  cp "$REPO/offline/keda/mkrootfs.sh" "$ctx/"
  ln "$WORK/bin/$2" "$ctx/$3"
  local log
  log=$(DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" -t "$4" "$ctx" 2>&1) \
    || { echo "$log" >&2; die "docker build $4 failed"; }
  echo "$4" >>"$OUT/images"
}
build_image Dockerfile operator keda "ghcr.io/kedacore/keda:$tag"
build_image Dockerfile.adapter adapter keda-adapter "ghcr.io/kedacore/keda-metrics-apiserver:$tag"
build_image Dockerfile.webhooks webhooks keda-admission-webhooks "ghcr.io/kedacore/keda-admission-webhooks:$tag"

kustomize=${KUSTOMIZE_OUT:+$KUSTOMIZE_OUT/kustomize}
[ -x "${kustomize:-}" ] || kustomize=$(command -v kustomize) || die "no kustomize (KUSTOMIZE_OUT unset?)"
# Makefile `release` (CRDs in config/crd/bases ship pre-generated in the tagged source,
# so `manifests`/controller-gen is not rerun; the scaler schema is not part of the YAML).
(cd config/manager && "$kustomize" edit set image "ghcr.io/kedacore/keda=ghcr.io/kedacore/keda:$tag") &&
(cd config/metrics-server && "$kustomize" edit set image "ghcr.io/kedacore/keda-metrics-apiserver=ghcr.io/kedacore/keda-metrics-apiserver:$tag") &&
(cd config/webhooks && "$kustomize" edit set image "ghcr.io/kedacore/keda-admission-webhooks=ghcr.io/kedacore/keda-admission-webhooks:$tag") \
  || die "kustomize edit set image failed"
sed -i -e "s@version:[ ].*@version: $v@g" config/default/kustomize-config/metadataLabelTransformer.yaml \
  config/minimal/kustomize-config/metadataLabelTransformer.yaml
"$kustomize" build config/default >"$OUT/keda-$v.yaml" || die "kustomize build config/default failed"
"$kustomize" build config/minimal >"$OUT/keda-$v-core.yaml" || die "kustomize build config/minimal failed"
"$kustomize" build config/crd >"$OUT/keda-$v-crds.yaml" || die "kustomize build config/crd failed"

# The release manifest says imagePullPolicy: Always, which makes kubelet pull from
# ghcr.io even for images put in place with `kind load docker-image`: this strategic
# merge patch (apply on top of keda-$v.yaml with kustomize, see offline/keda/README.md)
# switches the three Deployments to IfNotPresent.
{
  for d in keda-operator:keda-operator keda-metrics-apiserver:keda-metrics-apiserver keda-admission:keda-admission-webhooks; do
    cat <<P
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${d%%:*}
  namespace: keda
spec:
  template:
    spec:
      containers:
      - name: ${d#*:}
        imagePullPolicy: IfNotPresent
P
  done
} >"$OUT/keda-$v.offline-patch.yaml"
# `kubectl apply --server-side -k $OUT` (or `kustomize build $OUT`) = release manifest + patch.
cat >"$OUT/kustomization.yaml" <<K
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- keda-$v.yaml
patches:
- path: keda-$v.offline-patch.yaml
K
"$kustomize" build "$OUT" >"$WORK/offline.yaml" || die "kustomize build of the offline overlay failed"
mv "$WORK/offline.yaml" "$OUT/keda-$v.offline.yaml"
echo "$git_commit" >"$OUT/git-commit"

# Validate: every document parses, CRDs, APIService, images, overlay; each image starts.
# validate.py needs PyYAML: the caller's python3 has it when the suite builds (its tox env), Debian's when
# .ci/run or the nightly call `python3 -m offline.build` first (bootstrap installs python3-yaml).
py=python3
"$py" -c 'import yaml' 2>/dev/null || py=/usr/bin/python3
"$py" -c 'import yaml' 2>/dev/null \
  || die "offline/keda/validate.py needs PyYAML: apt-get install python3-yaml (or pip install pyyaml)"
"$py" "$REPO/offline/keda/validate.py" "$v" "$OUT" "$tag" >&2 || die "manifest validation failed"
# `--help` exits 0, or 2 where the binary uses Go's flag package (2.16.1's operator): either way it must have
# started and printed its usage; a missing binary, a crash or a bad ENTRYPOINT fails here.
while read -r img; do
  rc=0; out=$(docker run --rm "$img" --help 2>&1) || rc=$?
  { [ "$rc" = 0 ] || [ "$rc" = 2 ]; } && grep -qi "usage\|--help\|flags:" <<<"$out" \
    || die "$img does not start (--help exit $rc): $(tail -n3 <<<"$out")"
done <"$OUT/images"
