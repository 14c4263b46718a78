#!/usr/bin/env python3
"""Set up and run desktop_crm from a fresh clone with nothing but Python 3.11+.

    python3 tasks.py run [ARGS...]    set up .venv and start the desktop client (or a command)
    python3 tasks.py test [ARGS...]   set up .venv, then lint, type-check and run every test

Only the standard library is used here, so it works before anything is installed. The virtual
environment lives in .venv (or $DESKTOP_CRM_VENV) and is reinstalled when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("DESKTOP_CRM_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(text: str) -> None:
    print(f"[tasks] {text}", flush=True)


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def setup(extras: str) -> None:
    """Create the venv and install the project (editable) with ``extras`` when out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before any check of ours
        sys.exit(f"desktop_crm needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        _say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".desktop_crm-installed-{extras or 'app'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    _say(f"installing desktop_crm{f'[{extras}]' if extras else ''} and its dependencies")
    code = _run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target)
    if code:
        sys.exit(f"installing the dependencies failed (pip exit code {code})")
    stamp.write_text(digest)


def run(args: list[str]) -> int:
    setup("")
    return _run(BIN / "desktop-crm", *args)


def test(args: list[str]) -> int:
    setup("test")
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff check", [BIN / "ruff", "check", "."]),
        ("ruff format --check", [BIN / "ruff", "format", "--check", "."]),
        ("mypy", [BIN / "mypy"]),
        ("import rules", [BIN / "lint-imports"]),
    ]
    if not args:  # a developer running a subset of tests skips the slower static checks
        for name, cmd in steps:
            _say(name)
            if code := _run(*cmd, env=env):
                _say(f"{name} failed")
                return code
    _say("pytest")
    return _run(PYTHON, "-m", "pytest", *args, env=env)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test", "setup"):
        print(__doc__)
        return 2
    action, rest = sys.argv[1], sys.argv[2:]
    if action == "setup":
        setup("test")
        return 0
    return run(rest) if action == "run" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
