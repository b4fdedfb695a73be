#!/usr/bin/env bash
# version: $DEBIAN_SUITE
# deps: debian-base
# Python 3.11 base for the Celery worker image, standing in for python:3.11-slim-bookworm:
# Debian's python3 + python3-venv (the worker's Dockerfile makes its own venv in /opt/venv).
# The host's extra CAs (/usr/local/share/ca-certificates: a TLS-intercepting egress proxy, if
# any) are added to the image's trust store so `pip install` in images built FROM it reaches
# PyPI exactly as on the host; they are public certificates, not secrets.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
base="$(head -n1 "$DEBIAN_BASE_OUT/images" 2>/dev/null || echo "offline.local/debian:$DEBIAN_SUITE")"
mkdir -p "$WORK/ca"
for crt in /usr/local/share/ca-certificates/*.crt; do
  if [ -f "$crt" ]; then cp "$crt" "$WORK/ca/"; fi
done
cat >"$WORK/Dockerfile" <<DOCKERFILE
FROM $base
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ca-certificates python3 python3-venv \\
 && update-ca-certificates >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && ln -sf /usr/bin/python3 /usr/local/bin/python
# pip (vendored certifi) and Python's ssl use the system store, host CAs included.
ENV LANG=C.UTF-8 \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
DOCKERFILE
image="offline.local/python:3.11-$DEBIAN_SUITE"
docker build -q -t "$image" "$WORK" >/dev/null || die "docker build of $image failed"
version="$(docker run --rm "$image" python3 -c 'import sys, venv; print("%d.%d" % sys.version_info[:2])')"
[ "$version" = "3.11" ] || die "$image has Python $version, not 3.11 (DEBIAN_SUITE=$DEBIAN_SUITE)"
echo "$image" >"$OUT/images"
