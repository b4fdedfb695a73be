#!/usr/bin/env bash
# version: $K8S_VERSION+$DEBIAN_SUITE
# deps: kubernetes debian-base
# inputs: offline/node
# registry.k8s.io/kube-{apiserver,controller-manager,scheduler,proxy}:$K8S_VERSION:
# one Debian image holding the four binaries in /usr/local/bin (kubeadm's
# kube-proxy DaemonSet runs /usr/local/bin/kube-proxy; its static pods run the
# bare names from PATH), with iptables/ip6tables (legacy+nft through
# offline/node/iptables-wrapper, as upstream's distroless-iptables does),
# conntrack, ipset, nftables and kmod for kube-proxy; tagged four times.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v="v${K8S_VERSION#v}"
base="offline.local/debian:$DEBIAN_SUITE"
docker image inspect "$base" >/dev/null 2>&1 || die "base image $base missing (run debian-base)"
bins=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
ctx="$WORK/ctx"; mkdir -p "$ctx"
for b in "${bins[@]}"; do
  [ -x "$KUBERNETES_OUT/$b" ] || die "$KUBERNETES_OUT/$b missing (run kubernetes)"
  cp "$KUBERNETES_OUT/$b" "$ctx/"
done
cp "$REPO/offline/node/iptables-wrapper" "$ctx/"
chmod 0755 "$ctx"/*  # the legacy builder keeps modes: no chmod layer copying the binaries
cat >"$ctx/Dockerfile" <<DF
FROM $base
RUN export DEBIAN_FRONTEND=noninteractive \\
    && apt-get update -q \\
    && apt-get install -y -q --no-install-recommends iptables ipset conntrack nftables kmod \\
    && apt-get clean -y \\
    && rm -rf /var/lib/apt/lists/* /var/log/* /usr/share/doc/* /usr/share/man/*
COPY iptables-wrapper /usr/sbin/iptables-wrapper
RUN for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \\
         ln -sf iptables-wrapper /usr/sbin/\$t; done
COPY ${bins[*]} /usr/local/bin/
DF
first="registry.k8s.io/${bins[0]}:$v"
docker build -t "$first" "$ctx" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "docker build failed"; }
: >"$OUT/images"
for b in "${bins[@]}"; do
  docker tag "$first" "registry.k8s.io/$b:$v"
  echo "registry.k8s.io/$b:$v" >>"$OUT/images"
done
