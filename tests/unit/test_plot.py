"""Timeline plots draw a stretch without samples as a hole: a line across it would show values nobody read
(the KEDA swap's ~20 s without a read was drawn as a straight line)."""

from __future__ import annotations

import json
import math

import pytest

from fixtures.report import plot


def test_a_hole_breaks_the_line_and_is_reported():
    t = [0.0, 1.0, 2.0, 22.5, 23.5]
    assert plot.holes(t) == [(2.0, 22.5)]
    ts, vs = plot.with_holes(t, [1, 2, 3, 9, 9])
    assert len(ts) == 6 and math.isnan(vs[3]) and 2.0 < ts[3] < 22.5
    assert plot.holes([0.0, 1.0, 2.1, 3.0]) == [] and plot.with_holes([0.0, 1.0], [1, 2]) == ([0.0, 1.0], [1, 2])


def test_draw_writes_a_png_with_a_hole(tmp_path):
    pytest.importorskip("matplotlib")
    rows = [{"t_rel": float(t), "desired": 1, "ready": 1, "hpa_desired": None if t == 1 else 1,
             "queue": 500 - t, "metric": None} for t in (0, 1, 2, 25, 26)]
    src = tmp_path / "tl.json"
    src.write_text(json.dumps({"samples": rows, "marks": [{"t_rel": 1.0, "phase": "enqueued"}], "max_replicas": 10}))
    png = plot.draw(src, tmp_path / "tl.png", "a run with a hole", 10, 1)
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
