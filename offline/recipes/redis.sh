#!/usr/bin/env bash
# version: $DEBIAN_SUITE
# deps: debian-base
# Redis from Debian's redis-server, uid/gid 999 like the official image, no
# entrypoint so the manifest's command runs as is.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
cat >"$WORK/Dockerfile" <<DOCKERFILE
FROM offline.local/debian:$DEBIAN_SUITE
RUN groupadd -r -g 999 redis && useradd -r -u 999 -g 999 -d /data redis \\
 && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server redis-tools \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown 999:999 /data
WORKDIR /data
USER 999:999
EXPOSE 6379
CMD ["redis-server", "--dir", "/data"]
DOCKERFILE
image="offline.local/redis:$DEBIAN_SUITE"
docker build -q -t "$image" "$WORK" >/dev/null
docker run --rm "$image" redis-server --version
echo "$image" >"$OUT/images"
