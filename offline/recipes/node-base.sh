#!/usr/bin/env bash
# version: $KIND_VERSION+$DEBIAN_SUITE+crictl-v1.34.0
# deps: debian-base
# inputs: offline/node
# kind node base image, following kind $KIND_VERSION's images/base/Dockerfile on
# Debian $DEBIAN_SUITE: Debian's systemd, containerd 1.6, runc and CNI plugins
# instead of kind's source builds, crictl built from sigs.k8s.io/cri-tools, and
# kind's own files from images/base/files of the kind module.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
CRICTL_VERSION="${CRICTL_VERSION:-v1.34.0}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" GOTOOLCHAIN=local
base="offline.local/debian:$DEBIAN_SUITE"
docker image inspect "$base" >/dev/null 2>&1 || die "base image $base missing (run debian-base)"

kind_dir=$(go_mod_dir "sigs.k8s.io/kind@$KIND_VERSION")
[ -d "$kind_dir/images/base/files" ] || die "kind $KIND_VERSION module has no images/base/files"

ctx="$WORK/ctx"; mkdir -p "$ctx"
cp -r "$kind_dir/images/base/files" "$ctx/files"
chmod -R u+w "$ctx/files"
# containerd 1.6 has no fuse-overlayfs snapshotter binary in Debian: drop the
# proxy plugin (kind only selects it for rootless nodes).
sed -i '/^\[proxy_plugins\]/,/^  address = "\/run\/containerd-fuse-overlayfs.sock"/d' "$ctx/files/etc/containerd/config.toml"
# kubeadm's pause image (registry.k8s.io/pause:3.10.1 for 1.34); node-image.sh
# rewrites it again to whatever the pause recipe built.
sed -i "s#sandbox_image = \".*\"#sandbox_image = \"${SANDBOX_IMAGE:-registry.k8s.io/pause:3.10.1}\"#" "$ctx/files/etc/containerd/config.toml"
grep -q 'SystemdCgroup = true' "$ctx/files/etc/containerd/config.toml" || die "unexpected containerd config.toml"

# hosts without CAP_SYS_RESOURCE in the bounding set: see the script
install -m 0755 "$REPO/offline/node/containerd-restrict-oom.sh" "$ctx/files/kind/bin/containerd-restrict-oom.sh"
mkdir -p "$ctx/files/etc/systemd/system/containerd.service.d"
printf '[Service]\nExecStartPre=/kind/bin/containerd-restrict-oom.sh\n' >"$ctx/files/etc/systemd/system/containerd.service.d/10-restrict-oom.conf"

CGO_ENABLED=0 GOBIN="$ctx" go install -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
  "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" || die "building crictl $CRICTL_VERSION failed"

cat >"$ctx/Dockerfile" <<DF
FROM $base AS build
# packages of kind's base image plus Debian's containerd, runc and CNI plugins
RUN export DEBIAN_FRONTEND=noninteractive \\
    && apt-get update -q \\
    && apt-get install -y -q --no-install-recommends \\
      systemd \\
      conntrack iptables nftables iproute2 ethtool util-linux mount kmod \\
      libseccomp2 pigz fuse-overlayfs \\
      nfs-common open-iscsi \\
      e2fsprogs \\
      bash ca-certificates curl jq procps \\
      containerd runc containernetworking-plugins ipset \\
    && apt-get clean -y \\
    && rm -rf /var/cache/debconf/* /var/lib/apt/lists/* /var/log/* /tmp/* /var/tmp/* \\
      /usr/share/doc/* /usr/share/doc-base/* /usr/share/man/* /usr/share/local/*
COPY files/usr/local/bin/ /usr/local/bin/
COPY files/kind/ /kind/
COPY files/LICENSES/ /LICENSES/
COPY files/etc/ /etc/
COPY crictl /usr/local/bin/crictl
RUN chmod 0755 /usr/local/bin/* /kind /kind/bin /kind/bin/* \\
    && find /etc/crictl.yaml /etc/containerd /etc/default /etc/sysctl.d /etc/systemd/system /kind/README.txt -type f -exec chmod 0644 {} + \\
    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \\
    && rm -f /lib/systemd/system/multi-user.target.wants/* \\
    && rm -f /etc/systemd/system/*.wants/* \\
    && rm -f /lib/systemd/system/local-fs.target.wants/* \\
    && rm -f /lib/systemd/system/sockets.target.wants/*udev* \\
    && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \\
    && rm -f /lib/systemd/system/basic.target.wants/* \\
    && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\
    && ln -sf /usr/lib/systemd/systemd /sbin/init
# kind's unit files expect containerd in /usr/local/bin, CNI plugins in /opt/cni/bin
RUN for b in containerd ctr containerd-shim-runc-v2; do ln -sf /usr/bin/\$b /usr/local/bin/\$b; done \\
    && mkdir -p /opt/cni/bin \\
    && for p in host-local loopback ptp portmap; do cp /usr/lib/cni/\$p /opt/cni/bin/; done \\
    && ctr oci spec \\
        | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \\
        | jq 'del(.process.rlimits)' \\
        > /etc/containerd/cri-base.json \\
    && containerd --version && runc --version && crictl --version
RUN systemctl enable kubelet.service \\
    && systemctl enable containerd.service \\
    && systemctl enable undo-mount-hacks.service \\
    && systemctl mask systemd-binfmt.service \\
    && mkdir -p /etc/kubernetes/manifests

FROM scratch
COPY --from=build / /
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
DF
image="offline.local/kind-base:$DEBIAN_SUITE"
docker build -t "$image" "$ctx" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "docker build failed"; }
echo "$image" >"$OUT/images"
