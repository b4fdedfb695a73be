"""docs/architecture.md names only what exists, and the rules it states are enforced by `tox -e lint`.

A page that describes modules that were moved or renamed misleads the next reader more than no page; a rule
that nothing checks is broken by the next change without anyone noticing.
"""

from __future__ import annotations

import configparser
import re
import sys
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


# --- every path and name, and what each linted rule is checked by --------------------------------------------------

SOURCE = ("common", "fixtures", "offline", "worker")
# A path the page gives from the repository's root, a folder (`offline/`), a glob (`tests/e2e/test_*.py`) or
# several at once (`fixtures/{options,images}.py`); and one given from inside fixtures/ (`scaling/scenario.py`).
ROOTED = re.compile(r"(?<![\w./-])((?:\.github|common|docs|fixtures|manifests|offline|scripts|tests|worker)/[\w/{},.*-]*)")
IN_FIXTURES = re.compile(r"(?<![\w./-])((?:infra|sut|scaling|report)/\w+\.py)")
# `(module.py: Name, Name)`: the names that module defines (a line break may fall anywhere in the list).
DEFINES = re.compile(r"\((\w+)\.py:\s+([A-Z]\w*(?:,\s+[A-Z]\w*)*)\)")
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def _definitions() -> tuple[dict[str, set[str]], dict[str, set[str]], set[str]]:
    """Top-level names of every module of the packages (path -> names), the members of every class (by name), and
    the names the modules import from libraries (pytest-kind's `KindCluster`)."""
    import ast

    modules: dict[str, set[str]] = {}
    classes: dict[str, set[str]] = {}
    imported: set[str] = set()
    for package in SOURCE:
        for path in (REPO / package).rglob("*.py"):
            names: set[str] = set()
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(node.name, set()).update(
                        n.name if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) else n.target.id
                        for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                        or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)))
                targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                    node, ast.AnnAssign) else []
                names.update(t.id for t in targets if isinstance(t, ast.Name))
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] not in SOURCE:
                    imported.update(a.asname or a.name for a in node.names)
            modules[path.relative_to(REPO).with_suffix("").as_posix()] = names
    return modules, classes, imported


MODULES, CLASSES, IMPORTED = _definitions()


def _module(parts: list[str]) -> str | None:
    """The module `parts` name, from the root or from inside fixtures/ (`infra.cluster`, `reporting`)."""
    for base in ("/".join(parts), "fixtures/" + "/".join(parts)):
        for candidate in (base, base + "/__init__"):
            if candidate in MODULES:
                return candidate
    return None


def _defined(reference: str) -> bool:
    """`common/process.serve`, `infra.cluster.up`, `RunReport.to_record()`, `ScaleOutAndIn(...).run()`,
    `time.monotonic()`, `Provisioned`: a module and a name it defines, a class and its member, a standard module's
    function, or a name some module defines."""
    import importlib

    parts = re.sub(r"\([^)]*\)", "", reference).replace("/", ".").split(".")
    for k in range(len(parts) - 1, 0, -1):
        module = _module(parts[:k])
        if module is not None:
            rest = parts[k:]
            return rest[0] in MODULES[module] and (len(rest) == 1 or (len(rest) == 2 and rest[1] in CLASSES.get(
                rest[0], set())))
    if parts[0] in CLASSES:
        return len(parts) <= 2 and (len(parts) == 1 or parts[1] in CLASSES[parts[0]])
    if parts[0] in sys.stdlib_module_names:
        return hasattr(importlib.import_module(parts[0]), parts[1]) if len(parts) == 2 else len(parts) == 1
    return len(parts) == 1 and (parts[0] in IMPORTED or any(parts[0] in names for names in MODULES.values()))


def missing_paths(page: str) -> list[str]:
    """Every path the page gives that is not in the repository (a glob that matches nothing counts as missing)."""
    named = {p.rstrip(".,:") for p in ROOTED.findall(page)} | {f"fixtures/{p}" for p in IN_FIXTURES.findall(page)}
    missing = []
    for path in sorted(p for n in named for p in _expand(n)):
        exists = any(REPO.glob(path.rstrip("/"))) if "*" in path else (REPO / path).exists()
        if not exists and not ("." in path.rsplit("/", 1)[-1] and not path.endswith(".py") and _defined(path)):
            missing.append(path)
    for name in set(re.findall(r"`(\.?[\w-]+\.(?:toml|ini|cfg|yml|yaml|md))`", page)) | set(
            re.findall(r"`(\.[\w-]+)`", page)):
        if not (REPO / name).exists():
            missing.append(name)
    return missing


def undefined_names(page: str) -> list[str]:
    """Every code name the page gives that no module of the packages defines: `(module.py: Name)` pairs,
    `module.py:name`, and names in backticks (a class, a constant, a function or fixture, `module.name`)."""
    undefined = []
    for module, names in DEFINES.findall(page):
        files = [m for m in MODULES if m.rsplit("/", 1)[-1] == module]
        undefined += [f"{module}.py: {n}" for n in re.split(r",\s+", names)
                      if not any(n in MODULES[f] for f in files)]
    for module, name in re.findall(r"`([\w/]+)\.py:(\w+)`", page):
        if not _defined(f"{module}.{name}"):
            undefined.append(f"{module}.py:{name}")
    entry_points = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    plugins = {name for group in entry_points.values() for name in group}
    for token in set(re.findall(r"`([^`\s/-][^`\s]*)`", page)):
        if "/" in token or re.search(r"\.(?:py|sh|toml|ini|yml|yaml|md)$", token) or not re.match(r"\w+[\w.()]*$", token):
            continue  # a path (checked above), or not a bare code name
        if token in plugins or (REPO / token).is_dir() or token.split(".")[0] == "config":
            continue  # the plugin's entry point, a package, pytest's `config`
        head = token.split(".")[0]
        if head.islower() and "." in token and not _module([head]) and head not in sys.stdlib_module_names:
            token = head  # `scenario_record.attach(result)`: a fixture's value has no definition to look up
        if not _defined(token):
            undefined.append(token)
    return sorted(undefined)


def test_every_path_the_page_gives_exists():
    """Folders, globs and files from the root (`offline/recipes/*.sh`, `fixtures/infra/`), paths from inside
    fixtures/ (`scaling/scenario.py`) and the configuration files it names (`.importlinter`)."""
    assert not missing_paths(PAGE), f"docs/architecture.md names paths that do not exist: {missing_paths(PAGE)}"


def test_every_name_the_page_gives_is_defined():
    """`(target.py: Target)`, `infra.cluster.up`, `RunReport.to_record()`, `Provisioned`, `deployed_app`: each is
    defined where the page says, or somewhere in common/, fixtures/, offline/, worker/."""
    assert not undefined_names(PAGE), f"docs/architecture.md names what nothing defines: {undefined_names(PAGE)}"


def linted_rules(page: str) -> list[str]:
    """The rules the page says `tox -e lint` enforces (`enforces the first three`), each on one line."""
    m = re.search(r"`tox -e lint` enforces the first (\w+)", page)
    assert m, "the page no longer says which rules `tox -e lint` enforces"
    bullets = page[m.end():].split("\n\n")[0].split("\n- ")[1:]
    return [" ".join(b.split()) for b in bullets[:NUMBERS[m.group(1)]]]


def unenforced(rule: str, exempt: list[str]) -> list[str]:
    """What `rule` claims that no import-linter contract or ruff setting checks; [] when all of it is."""
    contracts = configparser.ConfigParser()
    contracts.read(REPO / ".importlinter")
    by_type: dict[str, list[configparser.SectionProxy]] = {}
    for s in contracts.sections():
        if s.startswith("importlinter:contract:"):
            by_type.setdefault(contracts[s]["type"], []).append(contracts[s])
    ruff = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    ignored = {path: codes for path, codes in ruff["per-file-ignores"].items()}
    gaps, checked = [], False
    if ".importlinter" in rule or "import-linter" in rule:
        checked = True
        chain = [re.search(r"`([^`]+)`", part).group(1) for part in rule.split(" -> ")]
        chain = [c.removesuffix(".py").replace("/", ".") for c in chain]
        layers = [{m.strip() for m in line.split(":")} for c in by_type.get("layers", [])
                  for line in c["layers"].split("\n") if line.strip()]
        at = [next((i for i, layer in enumerate(layers) if c in layer), -1) for c in chain]
        if -1 in at or at != sorted(at):
            gaps.append(f"the layers {chain} are not, in this order, a layers contract's ({at})")
        if "no import loop" in rule:
            ancestors = {a.strip() for c in by_type.get("acyclic_siblings", []) for a in c["ancestors"].split()}
            packages = {c for c in chain if (REPO / c.replace(".", "/")).is_dir()}
            if not packages <= ancestors:
                gaps.append(f"no acyclic_siblings contract over {sorted(packages - ancestors)}")
        for sources, target in re.findall(r"((?:`\w+/`(?: and |, )?)+) never import `(\w+)`", rule):
            wanted = set(re.findall(r"`(\w+)/`", sources))
            if not any(wanted <= set(c["source_modules"].split()) and target in c["forbidden_modules"].split()
                       for c in by_type.get("forbidden", [])):
                gaps.append(f"no forbidden contract keeps {sorted(wanted)} from importing {target}")
    for banned in re.findall(r"refuses `([\w.]+)`", rule):
        checked = True
        if "TID251" not in ruff["select"] or banned not in ruff["flake8-tidy-imports"]["banned-api"]:
            gaps.append(f"ruff's banned-API rule (TID251) does not ban {banned}")
        only = re.match(r"Only `([^`]+)`", rule)
        for path in ([only.group(1)] if only else []) + exempt:
            pattern = path + "**" if path.endswith("/") else path
            if pattern != "tests/**" and "TID251" not in ignored.get(pattern, []):
                gaps.append(f"{path} is not exempt from TID251 in pyproject.toml")
    if not checked:
        gaps.append("neither an import-linter contract nor a ruff rule is named")
    return gaps


def test_each_rule_lint_enforces_is_a_contract_or_a_ruff_rule():
    """The rules the page says `tox -e lint` enforces: the layers in the page's order, no loop inside a layer and
    offline/worker apart are .importlinter contracts; `subprocess` and `time.sleep` are banned by ruff (TID251)
    everywhere but the one layer the page names and the exemptions it lists."""
    rules = linted_rules(PAGE)
    assert len(rules) == 3, rules
    exempt: list[str] = []
    gaps = {}
    for rule in rules:
        exempt = re.findall(r"`([^`]+)` \([^)]*\)(?:,| and)", rule) + re.findall(r"and `([^`]+)` are exempt", rule) \
            or exempt  # "with the same exemptions"
        if problems := unenforced(rule, exempt):
            gaps[rule[:60]] = problems
    assert not gaps, gaps
