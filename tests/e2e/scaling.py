"""Shared plumbing of the scaling tests: a timeline around a body, recorded either way."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from fixtures.app import App
from fixtures.options import Options
from fixtures.plot import draw
from fixtures.timeline import Timeline


@contextlib.contextmanager
def recorded_timeline(request: pytest.FixtureRequest, app: App, r: redis.Redis, opts: Options,
                      record: dict[str, Any]) -> Iterator[Timeline]:
    """Sample while the body runs; write the timeline to the artifacts even when it fails."""
    tl = Timeline(app.kube, app.target, r, app.bounds.max)
    try:
        with tl:
            yield tl
    finally:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        paths = tl.write(opts.artifacts_dir / name, name)
        record["timeline"] = str(paths[0])
        record["peak_ready_replicas"] = tl.peak()
        record["samples"] = len(tl.samples)
        png = draw(paths[0], paths[0].with_name(f"{name}.png"), f"{request.node.nodeid} ({app.namespace})",
                   app.bounds.list_length, app.bounds.min)
        if png:
            record["plot"] = str(png)
