#!/usr/bin/env bash
# version: ${PAUSE_VERSION}+${K8S_VERSION}
# deps:
# registry.k8s.io/pause: build/pause/linux/pause.c of k8s.io/kubernetes@$K8S_VERSION,
# compiled static (as upstream's Makefile does), in a FROM scratch image.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
src=$(go_mod_dir "k8s.io/kubernetes@$K8S_VERSION")
[ -f "$src/build/pause/linux/pause.c" ] || die "pause.c not found in k8s.io/kubernetes@$K8S_VERSION"
mkdir -p "$WORK/ctx"
gcc -Os -Wall -Werror -static "-DVERSION=v$PAUSE_VERSION-offline" -o "$WORK/ctx/pause" "$src/build/pause/linux/pause.c" \
  || die "gcc -static failed"
strip "$WORK/ctx/pause"
cat >"$WORK/ctx/Dockerfile" <<'DF'
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
DF
image="registry.k8s.io/pause:$PAUSE_VERSION"
docker_build_quiet "$image" "$WORK/ctx"
echo "$image" >"$OUT/images"
for t in $PAUSE_EXTRA_TAGS; do
  docker tag "$image" "registry.k8s.io/pause:$t"
  echo "registry.k8s.io/pause:$t" >>"$OUT/images"
done
