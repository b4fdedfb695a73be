"""Can this machine run the suite online (images from their registries, KEDA's manifest from GitHub)?

Stdlib only: `scripts/e2e.sh` asks it before tox exists, to choose between online mode and the offline build.

    python3 -m common.online      # prints the --offline value to use (off: online, on: build from source)
                                  # and, on stderr, which endpoint did not answer
"""

from __future__ import annotations

import socket
import sys

# What online mode reaches: Docker Hub (kindest/node, redis, python), ghcr.io (KEDA's images), GitHub (KEDA's
# release manifest, redirected to its objects host).
ONLINE_ENDPOINTS = (("registry-1.docker.io", 443), ("ghcr.io", 443), ("github.com", 443),
                    ("objects.githubusercontent.com", 443))


def reachable(host: str, port: int = 443, timeout: float = 3) -> bool:
    """A TCP connection within `timeout`: what a registry pull needs first (DNS failures count as no)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unreachable_endpoints(timeout: float = 3) -> list[str]:
    return [f"{host}:{port}" for host, port in ONLINE_ENDPOINTS if not reachable(host, port, timeout)]


def main() -> int:
    missing = unreachable_endpoints()
    if missing:
        print(f"offline: {', '.join(missing)} did not answer within 3 s: images are built from source", file=sys.stderr)
        print("on")
    else:
        print("online: Docker Hub, ghcr.io and GitHub answer: images come from their registries", file=sys.stderr)
        print("off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
