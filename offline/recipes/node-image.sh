#!/usr/bin/env bash
# version: $K8S_VERSION+$KIND_VERSION
# deps: node-base kubernetes kube-images pause etcd coredns kindnetd local-path
# inputs: offline/node
# kind node image offline:$K8S_VERSION, doing by hand what `kind build
# node-image` (kind $KIND_VERSION pkg/build/nodeimage) does, but importing our
# own images from `docker save` instead of `ctr content fetch` from the internet.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v="v${K8S_VERSION#v}"
base_image=$(head -n1 "$NODE_BASE_OUT/images")
image="offline.local/kind-node:$v"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" GOTOOLCHAIN=local

# images to side-load: everything the image deps list
images=()
for dep in KUBE_IMAGES PAUSE ETCD COREDNS KINDNETD LOCAL_PATH; do
  var="${dep}_OUT"
  f="${!var:-}/images"
  { [ -n "${!var:-}" ] && [ -s "$f" ]; } || die "no image list from ${dep,,} (\$$var/images)"
  while read -r img; do [ -n "$img" ] && images+=("$img"); done <"$f"
done
for img in "$base_image" "${images[@]}"; do
  docker image inspect "$img" >/dev/null 2>&1 || die "image $img is missing from docker"
done
pick() { # first listed image whose repository ends in /$1, else $2
  local i; for i in "${images[@]}"; do [[ "${i%:*}" == */"$1" ]] && { echo "$i"; return; }; done; echo "$2"; }

# kind's manifests, from the kind module's own constants
kind_dir=$(go_mod_dir "sigs.k8s.io/kind@$KIND_VERSION")
nid="$kind_dir/pkg/build/nodeimage"
kconst() { (cd "$REPO/offline/node" && go run kindconst.go "$1" "$nid/const_cni.go" "$nid/const_storage.go"); }
mkdir -p "$WORK/kind/manifests"
kconst defaultCNIManifest >"$WORK/kind/manifests/default-cni.yaml" || die "cannot read kind's defaultCNIManifest"
kconst defaultStorageManifest >"$WORK/kind/manifests/default-storage.yaml" || die "cannot read kind's defaultStorageManifest"
for c in kindnetdImage:kindnetd storageProvisionerImage:local-path-provisioner storageHelperImage:local-path-helper; do
  want=$(kconst "${c%%:*}") || die "cannot read kind's ${c%%:*}"
  have=$(pick "${c#*:}" "$want")
  [ "$have" = "$want" ] || sed -i "s#$want#$have#g" "$WORK/kind/manifests/"*.yaml
done
pause=$(pick pause "")
[ -n "$pause" ] || die "the pause recipe listed no registry.k8s.io/pause image"
printf '%s' "$v" >"$WORK/kind/version"

# build container
cname="offline-kind-build-$$"
trap 'docker rm -f -v "$cname" >/dev/null 2>&1 || true' EXIT
docker run -d --privileged --security-opt seccomp=unconfined --entrypoint=sleep --name="$cname" "$base_image" infinity >/dev/null \
  || die "cannot start build container from $base_image"
x() { docker exec "$cname" "$@"; }
for b in kubeadm kubelet kubectl; do
  [ -x "$KUBERNETES_OUT/$b" ] || die "$KUBERNETES_OUT/$b missing"
  docker cp "$KUBERNETES_OUT/$b" "$cname:/usr/bin/$b"
  x chmod +x "/usr/bin/$b"; x chown root:root "/usr/bin/$b"
done
x mkdir -p /kind/manifests
docker cp "$WORK/kind/version" "$cname:/kind/version"
docker cp "$WORK/kind/manifests/default-cni.yaml" "$cname:/kind/manifests/default-cni.yaml"
docker cp "$WORK/kind/manifests/default-storage.yaml" "$cname:/kind/manifests/default-storage.yaml"
x chmod 0644 /kind/version /kind/manifests/default-cni.yaml /kind/manifests/default-storage.yaml
x sed -i "s#sandbox_image = \".*\"#sandbox_image = \"$pause\"#" /etc/containerd/config.toml
x kubeadm version -o short | grep -qx "$v" || die "kubeadm in the node does not report $v"

# side-load the images into containerd's k8s.io namespace, pinned like kind does
x bash -c 'nohup containerd >/dev/null 2>&1 &'
x bash -c 'for i in $(seq 30); do [ -S /run/containerd/containerd.sock ] && break; sleep 1; done; ctr version >/dev/null' \
  || die "containerd did not start in the build container"
# (ctr 1.6 import has no --label: label afterwards; CRI honours the pin from 1.7 on)
docker save "${images[@]}" | docker exec -i "$cname" ctr --namespace=k8s.io images import \
  --all-platforms --no-unpack --digests - >/dev/null \
  || die "ctr images import failed"
have=$(x ctr --namespace=k8s.io images list -q)
for img in $have; do
  x ctr --namespace=k8s.io images label "$img" io.cri-containerd.pinned=pinned >/dev/null || die "cannot label $img pinned"
done
missing=()
for img in "${images[@]}" $(x kubeadm config images list --kubernetes-version "$v" 2>/dev/null) "$pause"; do
  full="$img"; [[ "${img%%/*}" == *.* ]] || full="docker.io/$img"
  grep -qxF "$full" <<<"$have" || missing+=("$img")
done
[ "${#missing[@]}" -eq 0 ] || die "not in the node: ${missing[*]}"
x pkill containerd || true
# (sleep is PID 1 and reaps nothing: a zombie containerd counts as stopped)
x bash -c 'for i in $(seq 30); do ps -C containerd -o stat= | grep -qv "^Z" || exit 0; sleep 1; done; exit 1' || die "containerd did not stop"

old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
docker commit \
  --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
  --change 'CMD []' \
  --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
  "$cname" "$image" >/dev/null || die "docker commit failed"
# drop the node image this tag pointed at before (1.4 GB), unless a container still uses it
new_id=$(docker image inspect -f '{{.Id}}' "$image")
[ -z "$old_id" ] || [ "$old_id" = "$new_id" ] || docker rmi "$old_id" >/dev/null 2>&1 || true
echo "$image" >"$OUT/images"
