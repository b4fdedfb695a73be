#!/usr/bin/env bash
# version: ${KINDNETD_IMAGE##*:}+kube-network-policies-${KUBE_NETWORK_POLICIES_VERSION}+xtables-queue
# deps: debian-base
# inputs: offline/addons/kindnetd
# $KINDNETD_IMAGE, the image kind v0.33.0's default CNI manifest runs
# (pkg/build/nodeimage/const_cni.go). kind's own kindnetd source
# (module sigs.k8s.io/kind/images/kindnetd, a nested module left out of the
# sigs.k8s.io/kind zip) is not served by the Go module proxy, so this builds
# offline/addons/kindnetd: an independent kindnetd-compatible daemon (CNI
# config, routes, masquerade) with sigs.k8s.io/kube-network-policies linked in
# for NetworkPolicy, on Debian with iptables (legacy + nft) for the masquerade.
# kube-network-policies is patched (offline/addons/kindnetd/patches) so it can
# queue packets with the xtables NFQUEUE target where the kernel lacks the
# nftables queue expression (CONFIG_NFT_QUEUE); kindnetd picks one at start.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
src="$REPO/offline/addons/kindnetd"
grep -q "sigs.k8s.io/kube-network-policies $KUBE_NETWORK_POLICIES_VERSION\$" "$src/go.mod" \
  || die "offline/addons/kindnetd/go.mod does not pin kube-network-policies $KUBE_NETWORK_POLICIES_VERSION"
mkdir -p "$WORK/ctx"
cp -r "$src" "$WORK/src"
knp_dir=$(cd "$WORK/src" && go_mod_dir "sigs.k8s.io/kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION")
writable_copy "$knp_dir" "$WORK/kube-network-policies"
for p in "$src"/patches/kube-network-policies-*.patch; do
  # git apply needs no `patch` package; the throwaway repo keeps it from looking at an enclosing one.
  ( cd "$WORK/kube-network-policies" && git init -q . && git apply -p1 "$p" ) \
    || die "$(basename "$p") does not apply to kube-network-policies $KUBE_NETWORK_POLICIES_VERSION"
done
( cd "$WORK/src" && go mod edit -replace "sigs.k8s.io/kube-network-policies=$WORK/kube-network-policies" )
( cd "$WORK/src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${KINDNETD_IMAGE##*:}-offline" -o "$WORK/ctx/kindnetd" . ) \
  || die "go build failed"
cat >"$WORK/ctx/Dockerfile" <<'DF'
FROM offline.local/debian:bookworm
RUN apt-get -qq update \
 && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends iptables >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/*
COPY kindnetd /bin/kindnetd
ENTRYPOINT ["/bin/kindnetd"]
DF
docker_build_quiet "$KINDNETD_IMAGE" "$WORK/ctx"
echo "$KINDNETD_IMAGE" >"$OUT/images"
