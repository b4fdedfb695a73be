"""offline/mirror.py without a cluster: image references as Docker and containerd read them, and the access-log
check the online e2e test relies on (it must fail when an image did not come through the mirror, or came by the
wrong puller)."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline import mirror
from offline.mirror import ExpectedPull, Pull


@pytest.mark.parametrize(("ref", "split"), [
    ("redis:7.4-bookworm", ("docker.io", "library/redis", "7.4-bookworm")),
    ("kindest/node:v1.34.4", ("docker.io", "kindest/node", "v1.34.4")),
    ("docker.io/library/python:3.11-slim", ("docker.io", "library/python", "3.11-slim")),
    ("index.docker.io/redis", ("docker.io", "library/redis", "latest")),
    ("ghcr.io/kedacore/keda:2.21.0", ("ghcr.io", "kedacore/keda", "2.21.0")),
    ("registry.k8s.io/pause:3.10.1", ("registry.k8s.io", "pause", "3.10.1")),
    ("localhost:5000/a/b:c", ("localhost:5000", "a/b", "c")),
])
def test_references_split_as_docker_and_containerd_read_them(ref, split):
    assert mirror.split_reference(ref) == split


def test_via_mirror_keeps_the_upstream_path():
    assert mirror.via_mirror("127.0.0.1:5000", "redis:7") == "127.0.0.1:5000/library/redis:7"
    assert mirror.via_mirror("m:1", "ghcr.io/kedacore/keda:2.21.0") == "m:1/kedacore/keda:2.21.0"


# Lines as distribution v3 writes them (seen here: a kind node's containerd, and this host's Docker).
NODE = ('172.18.0.2 - - [26/Nov/2026:13:40:01 +0000] "HEAD /v2/kedacore/keda/manifests/2.21.0?ns=ghcr.io '
        'HTTP/1.1" 200 1573 "" "containerd/1.6.20~ds1"')
DOCKER = ('127.0.0.1 - - [26/Nov/2026:13:40:02 +0000] "GET /v2/kindest/node/manifests/v1.34.4 HTTP/1.1" 200 '
          '1784 "" "docker/20.10.24+dfsg1 go/go1.19.8 UpstreamClient(Docker-Client/28.2.2 \\\\(linux\\\\))"')
BLOB = ('172.18.0.2 - - [26/Nov/2026:13:40:03 +0000] "GET /v2/library/redis/blobs/sha256:ab?ns=docker.io '
        'HTTP/1.1" 200 99 "" "containerd/1.6.20~ds1"')
MISSING = ('172.18.0.2 - - [26/Nov/2026:13:40:04 +0000] "HEAD /v2/library/redis/manifests/7.4-bookworm?ns=docker.io '
           'HTTP/1.1" 404 0 "" "containerd/1.6.20~ds1"')


def test_access_log_parsing(tmp_path: Path):
    log = tmp_path / "access.log"
    log.write_text("\n".join([NODE, DOCKER, BLOB, MISSING, "time=... level=info msg=listening"]) + "\n")
    pulls = mirror.pulls(log)
    assert [(p.path, p.reference, p.upstream, p.status, p.by_node) for p in pulls] == [
        ("kedacore/keda", "2.21.0", "ghcr.io", 200, True), ("kindest/node", "v1.34.4", "", 200, False),
        ("library/redis", "7.4-bookworm", "docker.io", 404, True)]
    assert [p.path for p in mirror.pulls(log, since_line=1)] == ["kindest/node", "library/redis"]
    assert mirror.pulls(tmp_path / "none.log") == []


def test_pull_check_fails_for_a_missing_image_or_the_wrong_puller():
    seen = [Pull("kedacore/keda", "2.21.0", "ghcr.io", 200, "containerd/1.6.20"),
            Pull("kindest/node", "v1.34.4", "", 200, "docker/20.10.24"),
            Pull("library/redis", "7.4-bookworm", "docker.io", 404, "containerd/1.6.20")]
    ok = [ExpectedPull("ghcr.io/kedacore/keda:2.21.0", by_node=True), ExpectedPull("kindest/node:v1.34.4", by_node=False)]
    assert mirror.pull_problems(ok, seen) == []
    problems = mirror.pull_problems([
        ExpectedPull("redis:7.4-bookworm", by_node=True),  # only a 404 was served
        ExpectedPull("kindest/node:v1.34.4", by_node=True),  # Docker pulled it, not the node
        ExpectedPull("ghcr.io/kedacore/keda:2.20.2", by_node=True),  # another tag
        ExpectedPull("ghcr.io/kedacore/keda-metrics-apiserver:2.21.0", by_node=True),  # never asked for
    ], seen)
    assert len(problems) == 4
    assert "7.4-bookworm 404" in problems[0] and "by the kind node (containerd)" in problems[1]
    assert "requests for kedacore/keda-metrics-apiserver: none" in problems[3]


def test_the_fill_covers_every_image_online_mode_pulls():
    images = mirror.upstream_images({"KEDA_VERSION": "2.21.0", "K8S_VERSION": "v1.34.4"})
    assert images["kindest/node:v1.34.4"] == "offline.local/kind-node:v1.34.4"
    assert images["docker.io/library/redis:7.4-bookworm"] == "offline.local/redis:bookworm"
    assert {k for k in images if "kedacore" in k} == {f"ghcr.io/kedacore/{n}:2.21.0" for n in
                                                      ("keda", "keda-metrics-apiserver", "keda-admission-webhooks")}
