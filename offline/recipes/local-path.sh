#!/usr/bin/env bash
# version: ${LOCAL_PATH_PROVISIONER_VERSION}
# deps: debian-base
# kind v0.33.0's default storage images (pkg/build/nodeimage/const_storage.go):
#  - $LOCAL_PATH_PROVISIONER_IMAGE: github.com/rancher/local-path-provisioner
#    (kind builds v0.0.34; the Go proxy serves v0.0.30, built here from its
#    vendored module source as its scripts/build does), static, FROM scratch,
#    /usr/local/bin/local-path-provisioner (the manifest runs it by name);
#  - $LOCAL_PATH_HELPER_IMAGE: helper pod image, needs only sh, rm and mkdir
#    (Debian's static busybox, FROM scratch).
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v=$LOCAL_PATH_PROVISIONER_VERSION
src=$(go_mod_dir "github.com/rancher/local-path-provisioner@$v")
[ -f "$src/main.go" ] || die "module github.com/rancher/local-path-provisioner@$v has no main.go"
writable_copy "$src" "$WORK/src" && rm -rf "$WORK/src/vendor"  # the module zip keeps only part of vendor/
mkdir -p "$WORK/prov/rootfs/usr/local/bin" "$WORK/prov/rootfs/tmp" "$WORK/helper"
( cd "$WORK/src" && CGO_ENABLED=0 go build -trimpath -ldflags "-X main.VERSION=$v -s -w" \
    -o "$WORK/prov/rootfs/usr/local/bin/local-path-provisioner" . ) \
  || die "go build of local-path-provisioner failed"
cp /etc/ssl/certs/ca-certificates.crt "$WORK/prov/" 2>/dev/null || : >"$WORK/prov/ca-certificates.crt"
mkdir -p "$WORK/prov/rootfs/etc/ssl/certs" && mv "$WORK/prov/ca-certificates.crt" "$WORK/prov/rootfs/etc/ssl/certs/"
cat >"$WORK/prov/Dockerfile" <<'DF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
ENTRYPOINT ["/usr/local/bin/local-path-provisioner"]
DF
cat >"$WORK/helper/Dockerfile" <<'DF'
FROM offline.local/debian:bookworm AS build
RUN apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends busybox-static >/dev/null \
 && mkdir -p /rootfs/bin /rootfs/tmp && chmod 1777 /rootfs/tmp && cp /bin/busybox /rootfs/bin/busybox \
 && for t in sh rm mkdir; do ln -s busybox /rootfs/bin/$t; done \
 && mkdir -p /rootfs/usr/share/doc/busybox-static && cp /usr/share/doc/busybox-static/copyright /rootfs/usr/share/doc/busybox-static/
FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
DF
docker_build_quiet "$LOCAL_PATH_PROVISIONER_IMAGE" "$WORK/prov"
docker_build_quiet "$LOCAL_PATH_HELPER_IMAGE" "$WORK/helper"
printf '%s\n' "$LOCAL_PATH_PROVISIONER_IMAGE" "$LOCAL_PATH_HELPER_IMAGE" >"$OUT/images"
