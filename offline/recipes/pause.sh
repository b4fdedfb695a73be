#!/usr/bin/env bash
# version: ${PAUSE_VERSION}+${K8S_VERSION}
# deps:
# registry.k8s.io/pause: build/pause/linux/pause.c of k8s.io/kubernetes@$K8S_VERSION,
# compiled static (as upstream's Makefile does), in a FROM scratch image.
set -euo pipefail
. "$REPO/offline/addons.env"
src=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
[ -f "$src/build/pause/linux/pause.c" ] || { echo "pause: pause.c not found in k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
mkdir -p "$WORK/ctx"
gcc -Os -Wall -Werror -static "-DVERSION=v$PAUSE_VERSION-offline" -o "$WORK/ctx/pause" "$src/build/pause/linux/pause.c" \
  || { echo "pause: gcc -static failed" >&2; exit 1; }
strip "$WORK/ctx/pause"
cat >"$WORK/ctx/Dockerfile" <<'DF'
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
DF
image="registry.k8s.io/pause:$PAUSE_VERSION"
docker build -q -t "$image" "$WORK/ctx" >"$WORK/docker-build.log" 2>&1 || { echo "pause: docker build failed: $(tail -n1 "$WORK/docker-build.log")" >&2; exit 1; }
echo "$image" >"$OUT/images"
for t in $PAUSE_EXTRA_TAGS; do
  docker tag "$image" "registry.k8s.io/pause:$t"
  echo "registry.k8s.io/pause:$t" >>"$OUT/images"
done
