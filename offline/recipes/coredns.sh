#!/usr/bin/env bash
# version: ${COREDNS_VERSION}
# deps: debian-base
# registry.k8s.io/coredns/coredns:$COREDNS_VERSION (kubeadm's CoreDNSVersion):
# github.com/coredns/coredns built from its module source as its Makefile does
# (CGO_ENABLED=0), image laid out like upstream's Dockerfile: /coredns with
# cap_net_bind_service file capability, CA bundle, USER 65532 (distroless
# nonroot), ENTRYPOINT ["/coredns"].
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
src=$(go_mod_dir "github.com/coredns/coredns@$COREDNS_VERSION")
[ -f "$src/coredns.go" ] || die "module github.com/coredns/coredns@$COREDNS_VERSION has no coredns.go"
mkdir -p "$WORK/ctx"
writable_copy "$src" "$WORK/src"
( cd "$WORK/src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION-offline" \
    -o "$WORK/ctx/coredns" . ) || die "go build failed"
cat >"$WORK/ctx/Dockerfile" <<'DF'
FROM offline.local/debian:bookworm AS build
RUN apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends libcap2-bin >/dev/null \
 && mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp && chmod 1777 /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/rootfs/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' >/rootfs/etc/group
COPY coredns /rootfs/coredns
RUN setcap cap_net_bind_service=+ep /rootfs/coredns
FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
DF
image="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
docker_build_quiet "$image" "$WORK/ctx"
echo "$image" >"$OUT/images"
