#!/usr/bin/env bash
# version: $DEBIAN_SUITE
# deps:
# Debian minbase rootfs from Debian's mirror, imported as the base of every
# image the offline build makes (no registry holds a base image for us).
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
# As root: mmdebstrap's unshare mode, which it picks for other users, needs subuid ranges and fails under
# `sg docker` (newuidmap refuses a process whose group is not the user's own: seen on the first fresh-user
# run), so a user builds through sudo and gets the tar back. The keyring is named so an Ubuntu machine (a
# GitHub runner) verifies Debian's archive too (bootstrap.sh installs debian-archive-keyring).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
command -v mmdebstrap >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing: bash scripts/bootstrap.sh installs debian-archive-keyring"
as_root mmdebstrap --quiet --mode=root --variant=minbase --include=ca-certificates --keyring="$keyring" \
  "$DEBIAN_SUITE" "$WORK/rootfs.tar" http://deb.debian.org/debian || die "mmdebstrap $DEBIAN_SUITE failed"
[ "$(id -u)" = 0 ] || as_root chown "$(id -u):$(id -g)" "$WORK/rootfs.tar"
image="offline.local/debian:$DEBIAN_SUITE"
docker import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$WORK/rootfs.tar" "$image" >/dev/null
echo "$image" >"$OUT/images"
