"""The version pins of offline/*.env, as bash resolves them (each one overridable from the environment)."""

from __future__ import annotations

from common.paths import REPO
from common.process import run

PIN_FILES_DIR = REPO / "offline"


def load_pins(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The pins of offline/*.env after `overrides` (an environment: only upper-case names are kept)."""
    env_files = sorted(PIN_FILES_DIR.glob("*.env"))
    script = "set -a; " + " ".join(f". {f};" for f in env_files) + " env -0"
    env = dict(overrides or {})
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    out = run(["bash", "-c", script], env=env, timeout=30).stdout
    pins = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    return {k: v for k, v in pins.items() if k.isupper() and k not in ("PATH", "PWD", "SHLVL")}
