"""docs/architecture.md names only what exists, and the rules it states are enforced by `tox -e lint`.

A page that describes modules that were moved or renamed misleads the next reader more than no page; a rule
that nothing checks is broken by the next change without anyone noticing.
"""

from __future__ import annotations

import configparser
import re
import tomllib

from common.paths import REPO

PAGE = (REPO / "docs" / "architecture.md").read_text()


def test_every_module_the_page_names_exists():
    named = set(re.findall(r"\b((?:common|fixtures|offline|worker|tests|scripts)/[\w/{},.*-]+\.(?:py|sh))", PAGE))
    # `fixtures/{options,images,...}.py` names several at once
    paths = {p for n in named for p in _expand(n)}
    missing = sorted(p for p in paths if "*" not in p and not (REPO / p).exists())
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"
    folders = set(re.findall(r"\b(fixtures/\w+)/", PAGE))
    assert all((REPO / f).is_dir() for f in folders), folders
    bare = set(re.findall(r"\((\w+\.py)[:)]", PAGE)) | set(re.findall(r"\b(\w+\.py)(?=[,)])", PAGE))
    everywhere = {p.name for p in REPO.rglob("*.py") if ".tox" not in p.parts}
    assert bare <= everywhere, f"named but nowhere in the repository: {sorted(bare - everywhere)}"


def _expand(name: str) -> list[str]:
    m = re.search(r"\{([^}]*)\}", name)
    return [name[:m.start()] + part + name[m.end():] for part in m.group(1).split(",")] if m else [name]


def test_the_rules_it_states_are_lint_contracts():
    contracts = configparser.ConfigParser()
    contracts.read(REPO / ".importlinter")
    kinds = {contracts[s]["type"] for s in contracts.sections() if s.startswith("importlinter:contract:")}
    assert {"layers", "forbidden", "acyclic_siblings"} <= kinds, kinds
    layers = next(contracts[s]["layers"] for s in contracts.sections() if contracts[s].get("type") == "layers")
    order = [line.strip() for line in layers.strip().splitlines()]
    assert order[0] == "fixtures.plugin" and order[-2:] == ["fixtures.waits", "common"], order
    for layer in ("fixtures.report", "fixtures.scaling", "fixtures.sut", "fixtures.infra"):
        assert layer in order and f"`{layer.replace('.', '/')}`" in PAGE, f"{layer}: in the contract and on the page"
    ruff = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "TID251" in ruff["select"]
    assert set(ruff["flake8-tidy-imports"]["banned-api"]) == {"subprocess", "time.sleep"}
    assert "import-linter" in (REPO / "tox.ini").read_text() and "lint-imports" in (REPO / "tox.ini").read_text()
    for rule in ("Only `common/process.py` calls `subprocess`", "Only `fixtures/waits.py` polls", ".importlinter"):
        assert rule in PAGE, rule
