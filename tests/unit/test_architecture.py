"""The layer rules of docs/architecture.md, checked mechanically."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    """No Qt (and no desktop_crm.ui) in data, identify, cti, mail; layers import downwards only."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the test extras"
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_runs_without_qt_installed() -> None:
    """Importing the whole core in a fresh interpreter loads no PySide6 module."""
    code = (
        "import sys, importlib, pkgutil, desktop_crm\n"
        "for m in pkgutil.walk_packages(desktop_crm.__path__, 'desktop_crm.'):\n"
        "    if not m.name.startswith(('desktop_crm.ui', 'desktop_crm.app', 'desktop_crm.__main__')) and "
        "'.migrations' not in m.name:\n"
        "        importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.startswith('PySide6')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
