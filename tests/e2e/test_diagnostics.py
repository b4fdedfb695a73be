"""A failing scaling test leaves a diagnostics bundle, and its failure message names it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from common.process import run
from fixtures.inner import inner_pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLE_FILES = ("describe-hpa.txt", "describe-scaledobject.txt", "describe-deployment.txt", "describe-pods.txt",
                "scaledobject.yaml", "events.txt", "logs-keda-operator.txt", "logs-workers.txt", "logs-redis.txt",
                "redis.json", "errors.txt")

pytestmark = [pytest.mark.kind_only("an inner run reuses this session's kind cluster by name"),
              pytest.mark.serial("its inner run reuses the cluster by name and installs KEDA into it again")]


def test_forced_failure_leaves_a_named_bundle(cluster, provisioned, suite_options, tmp_path):
    inner = inner_pytest(suite_options, provisioned, tmp_path, str(REPO / "tests/e2e/forced_failure/check_wrong_list.py"),
                         on_cluster=cluster)
    cp = run(inner.argv(), cwd=REPO, timeout=900, check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, f"the broken deployment must fail (exit {cp.returncode}):\n{out[-3000:]}"
    assert "waiting for replicas to rise above 1; last observed: replicas 1/10" in out, out[-3000:]
    m = re.search(r"diagnostics bundle: (\S+)", out)
    assert m, f"the failure does not name a diagnostics bundle:\n{out[-3000:]}"
    bundle = Path(m.group(1))
    missing = [f for f in BUNDLE_FILES if not (bundle / f).is_file()]
    assert not missing, f"bundle {bundle} lacks {missing}"
    assert "wrong_list" in (bundle / "scaledobject.yaml").read_text()
    assert set(json.loads((bundle / "redis.json").read_text())["queues"]) == {"high_priority", "low_priority", "default"}
    assert any((bundle / "kind-logs").rglob("kubelet.log")), "kind export logs missing from the bundle"
