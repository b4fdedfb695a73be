"""`fixtures.options.parse` as pytest calls it, for the tests of the options and of what reads them (provisioning,
the KEDA install): only the values a test names, the rest as pytest hands them over when nothing is given."""

from __future__ import annotations

from fixtures import options

# What pytest hands us when nothing is given: our options default to None, pytest-kind's have their own defaults.
DEFAULTS = {**{o.dest: None for o in options.OPTIONS}, "cluster_name": "pytest-kind", "keep_cluster": False}


def parse(env: dict[str, str] | None = None, **kw: object) -> options.Options:
    values = {**DEFAULTS, **kw}
    return options.parse(values.__getitem__, env=env or {})
