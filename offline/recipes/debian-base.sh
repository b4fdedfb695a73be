#!/usr/bin/env bash
# version: $DEBIAN_SUITE
# deps:
# Debian minbase rootfs from Debian's mirror, imported as the base of every
# image the offline build makes (no registry holds a base image for us).
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
command -v mmdebstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null
mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  "$DEBIAN_SUITE" "$WORK/rootfs.tar" http://deb.debian.org/debian
image="offline.local/debian:$DEBIAN_SUITE"
docker import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$WORK/rootfs.tar" "$image" >/dev/null
echo "$image" >"$OUT/images"
