#!/usr/bin/env bash
# version: ${ETCD_VERSION}
# deps:
# registry.k8s.io/etcd:$ETCD_IMAGE_TAG (the tag kubeadm asks for): etcd, etcdctl
# and etcdutl built from go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3 through the
# wrapper module in offline/addons/etcd (etcdmain.Main), static, FROM scratch,
# in /usr/local/bin (kubeadm's static pod runs `etcd ...` without a shell).
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
src="$REPO/offline/addons/etcd"
grep -q "go.etcd.io/etcd/server/v3 v$ETCD_VERSION\$" "$src/go.mod" \
  || die "offline/addons/etcd/go.mod does not pin server/v3 v$ETCD_VERSION"
mkdir -p "$WORK/ctx/rootfs/usr/local/bin" "$WORK/ctx/rootfs/tmp" "$WORK/ctx/rootfs/var/lib/etcd"
( cd "$src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=offline" \
    -o "$WORK/ctx/rootfs/usr/local/bin/" . go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3 ) \
  || die "go build failed"
cat >"$WORK/ctx/Dockerfile" <<'DF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /
EXPOSE 2379 2380
CMD ["/usr/local/bin/etcd"]
DF
image="registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
docker_build_quiet "$image" "$WORK/ctx"
echo "$image" >"$OUT/images"
