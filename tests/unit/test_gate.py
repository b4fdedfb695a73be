"""The upgrade gate compares medians with a tolerance; a 2x faster baseline fails it."""

from __future__ import annotations

import json

from fixtures.report import gate

T = "tests/e2e/test_default_scenario.py::test_scales_out_to_max_and_back_to_min"


def run(scale: float, outcome: str = "passed", rep: int = 1, **override: float | None) -> dict:
    phases = {"first_scale_up": 6.0 * scale, "reached_max": 60.0 * scale, "drained": 90.0 * scale,
              "back_to_min": 40.0 * scale, **override}
    return gate.result({"keda_version": "2.21.0"}, {f"{T}[run{rep}]": {"outcome": outcome, "phases": phases}}, 300)


def test_passes_against_its_own_baseline():
    runs = [run(1.0, rep=1), run(1.1, rep=2), run(0.95, rep=3)]
    assert all(v.ok for v in gate.compare(runs, runs))


def test_fails_against_a_doctored_baseline_twice_as_fast():
    current = [run(1.0)]
    verdicts = gate.compare(current, [run(0.5)])
    failed = {v.phase for v in verdicts if not v.ok}
    assert {"reached_max", "drained", "back_to_min"} <= failed


def test_one_slow_outlier_does_not_move_the_median():
    current = [run(1.0, rep=1), run(3.0, rep=2), run(1.05, rep=3)]
    assert all(v.ok for v in gate.compare(current, [run(1.0)]))


def test_a_phase_not_reached_fails():
    v = {x.phase: x for x in gate.compare([run(1.0, back_to_min=None)], [run(1.0)])}
    assert not v["back_to_min"].ok and v["back_to_min"].current is None


def test_cli_exit_codes(tmp_path, capsys):
    base, cur, fast = tmp_path / "b.json", tmp_path / "c.json", tmp_path / "f.json"
    base.write_text(json.dumps([run(1.0, rep=1), run(1.0, rep=2)]))
    cur.write_text(json.dumps(run(1.1)))
    fast.write_text(json.dumps(run(0.5)))
    assert gate.main(["--baseline", str(base), str(cur)]) == 0
    assert "gate: PASS" in capsys.readouterr().out
    assert gate.main(["--baseline", str(fast), str(cur)]) == 1
    assert "gate: FAIL" in capsys.readouterr().out


def test_tests_not_run_now_are_not_compared():
    other = gate.result({}, {"tests/e2e/test_other.py::test_x": {"outcome": "passed", "phases": {"drained": 1.0}}}, 1)
    baseline = [{**run(1.0), "tests": {**run(1.0)["tests"], **other["tests"]}}]
    verdicts = gate.compare([run(1.0)], baseline)
    assert verdicts and all(v.ok for v in verdicts)
    assert {v.test for v in verdicts} == {T}


def test_spread_reports_pass_rate_and_min_median_max():
    runs = [run(1.0, rep=1), run(2.0, rep=2, outcome="failed"), run(1.5, rep=3)]
    merged = {**runs[0], "tests": {k: v for r in runs for k, v in r["tests"].items()}}
    lines = gate.spread([merged])
    assert lines[0] == f"{T}: 2/3 passed"
    drained = next(line for line in lines if "drained" in line)
    assert "n=3" in drained and "min   90.0s" in drained and "median  135.0s" in drained and "max  180.0s" in drained
