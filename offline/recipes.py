"""Discover build recipes and the order they run in.

A recipe is `offline/recipes/<component>.sh`; its header says what the cache is
keyed on (`# version: <shell expression>`), what it needs first
(`# deps: a b`) and which extra files feed it (`# inputs: offline/node`).
Every recipe sources the shared preamble `offline/recipes/_lib.sh` (strict mode,
`die`, `go_mod_dir`, ...): a file whose name starts with `_` is not a recipe,
and the preamble's text is part of every recipe's cache key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import SuiteError
from common.process import run

OFFLINE_DIR = Path(__file__).resolve().parent
RECIPE_DIR = OFFLINE_DIR / "recipes"
PREAMBLE = "_lib.sh"
_HEADER = re.compile(r"^#\s*(version|deps|inputs):\s*(.*?)\s*$")


class RecipeError(SuiteError):
    """A recipe set that cannot be built: unknown component, cycle, bad header."""


@dataclass(frozen=True)
class Recipe:
    name: str
    path: Path
    version_expr: str
    deps: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    text: str = field(default="", repr=False)
    preamble: str = field(default="", repr=False)  # the text of the _lib.sh beside it, which it sources

    def version(self, pins: dict[str, str]) -> str:
        """The version this recipe builds: its header expression expanded by bash over the pins."""
        out = run(["bash", "-c", f'printf %s "{self.version_expr}"'], env={**pins, "PATH": "/usr/bin:/bin"},
                  timeout=30, check=False)
        if out.returncode != 0:
            raise RecipeError(f"{self.path}: cannot expand '# version: {self.version_expr}': {out.stderr.strip()}")
        return out.stdout


def parse(path: Path) -> Recipe:
    text = path.read_text()
    header: dict[str, str] = {}
    for line in text.splitlines()[:30]:
        m = _HEADER.match(line)
        if m:
            header[m.group(1)] = m.group(2)
    if "version" not in header:
        raise RecipeError(f"{path}: missing '# version:' header line")
    return Recipe(
        name=path.stem,
        path=path,
        version_expr=header["version"],
        deps=tuple(header.get("deps", "").split()),
        inputs=tuple(header.get("inputs", "").split()),
        text=text,
        preamble=lib.read_text() if (lib := path.parent / PREAMBLE).is_file() else "",
    )


def discover(recipe_dir: Path = RECIPE_DIR) -> dict[str, Recipe]:
    """The recipes in `recipe_dir` by component name; `_*.sh` (the preamble) are not recipes."""
    return {p.stem: parse(p) for p in sorted(recipe_dir.glob("*.sh")) if not p.name.startswith("_")}


def closure(recipes: dict[str, Recipe], wanted: list[str]) -> list[Recipe]:
    """The wanted components and their dependencies, dependencies first."""
    order: list[Recipe] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name not in recipes:
            via = f" (needed by {chain[-1]})" if chain else ""
            known = ", ".join(sorted(recipes))
            raise RecipeError(f"unknown component {name!r}{via}; known: {known}")
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise RecipeError("dependency cycle: " + " -> ".join((*chain, name)))
        state[name] = "visiting"
        for dep in recipes[name].deps:
            visit(dep, (*chain, name))
        state[name] = "done"
        order.append(recipes[name])

    for name in wanted:
        visit(name, ())
    return order


def key(recipe: Recipe, version: str, dep_keys: list[str], repo: Path) -> str:
    """Cache key: recipe text, the preamble it sources, version, its inputs' contents and its deps' keys."""
    h = hashlib.sha256()
    h.update(recipe.text.encode())
    h.update(recipe.preamble.encode())
    h.update(version.encode())
    for dep_key in dep_keys:
        h.update(dep_key.encode())
    for rel in recipe.inputs:
        root = repo / rel
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            h.update(str(f.relative_to(repo)).encode())
            h.update(f.read_bytes() if f.exists() else b"<missing>")
    return h.hexdigest()[:12]
