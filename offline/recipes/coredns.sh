#!/usr/bin/env bash
# version: ${COREDNS_VERSION}
# deps: debian-base
# registry.k8s.io/coredns/coredns:$COREDNS_VERSION (kubeadm's CoreDNSVersion):
# github.com/coredns/coredns built from its module source as its Makefile does
# (CGO_ENABLED=0), image laid out like upstream's Dockerfile: /coredns with
# cap_net_bind_service file capability, CA bundle, USER 65532 (distroless
# nonroot), ENTRYPOINT ["/coredns"].
set -euo pipefail
. "$REPO/offline/addons.env"
src=$(go mod download -json "github.com/coredns/coredns@$COREDNS_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
[ -f "$src/coredns.go" ] || { echo "coredns: module github.com/coredns/coredns@$COREDNS_VERSION not downloadable" >&2; exit 1; }
mkdir -p "$WORK/ctx"
cp -r "$src" "$WORK/src" && chmod -R u+w "$WORK/src"
( cd "$WORK/src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION-offline" \
    -o "$WORK/ctx/coredns" . ) || { echo "coredns: go build failed" >&2; exit 1; }
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
docker build -q -t "$image" "$WORK/ctx" >"$WORK/docker-build.log" 2>&1 || { echo "coredns: docker build failed: $(tail -n1 "$WORK/docker-build.log")" >&2; exit 1; }
echo "$image" >"$OUT/images"
