"""The fallback test's xfail (tests/e2e/test_fallback.py) accepts KEDA's known defect only in its shape over time
and only on the releases known to carry it; every other shape is a failure."""

from __future__ import annotations

from tests.e2e.test_fallback import carries_known_defect, defect_evidence

M = "s0-redis-high_priority"


def test_the_defects_shape_is_accepted():
    reads = [({M: 1}, 4), ({M: 1}, 7), ({M: 1}, 11)]
    assert "stayed {'s0-redis-high_priority': 1} over 3 reads" in defect_evidence(reads)


def test_any_other_shape_is_not():
    assert defect_evidence([({M: 1}, 4), ({M: 1}, 7)]) is None, "too few reads"
    assert defect_evidence([({M: 1}, 4), ({M: 2}, 7), ({M: 3}, 11)]) is None, "the counter moves: KEDA counts"
    assert defect_evidence([({M: 4}, 4), ({M: 4}, 7), ({M: 4}, 11)]) is None, "past the threshold: no defect"
    assert defect_evidence([({M: 1}, 4), ({M: 1}, 4), ({M: 1}, 4)]) is None, "the bypassing errors stopped"
    assert defect_evidence([({}, 4), ({}, 7), ({}, 11)]) is None, "no counter at all: something else is wrong"
    assert defect_evidence([({M: 0}, 0), ({M: 0}, 0), ({M: 0}, 0)]) is None, "no evidence, e.g. another outage"


def test_only_releases_known_to_carry_it():
    assert carries_known_defect("2.21.0") and carries_known_defect("2.20.2") and carries_known_defect("2.13.0")
    assert not carries_known_defect("2.21.1") and not carries_known_defect("2.22.0")
    assert not carries_known_defect("2.12.1")
    assert carries_known_defect("2.21.0-slow-metrics-1a2b3c4d"), "a patched build of a carrying release"
