"""Refresh the German catalogue after UI strings changed.

    .venv/bin/python resources/translations/update.py

1. pyside6-lupdate collects every ``tr()`` / ``QCoreApplication.translate`` / ``QT_TRANSLATE_NOOP``
   string of the client into ``desktop_crm_de.ts`` (new ones are marked unfinished; translate
   them in Qt Linguist, ``pyside6-linguist``, or in any editor);
2. pyside6-lrelease compiles it to ``desktop_crm/ui/translations/desktop_crm_de.qm``, the file
   the client loads (``desktop_crm.ui.i18n``). Both tools come with PySide6-Essentials.

``tests/ui/test_i18n.py`` fails while a string is untranslated or the .qm is out of date.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TS = Path(__file__).with_name("desktop_crm_de.ts")
QM = ROOT / "desktop_crm" / "ui" / "translations" / "desktop_crm_de.qm"


def sources() -> list[Path]:
    ui = ROOT / "desktop_crm" / "ui"
    return [*sorted(ui.glob("*.py")), *sorted(ui.glob("*/*.py")), ROOT / "desktop_crm" / "app.py"]


def tool(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6-Essentials in this environment")
    return found


def lupdate(ts: Path) -> None:
    files = [str(p.relative_to(ROOT)) for p in sources()]
    cmd = [tool("pyside6-lupdate"), "-locations", "none", "-no-obsolete", *files, "-ts", str(ts)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)


def lrelease(ts: Path, qm: Path) -> None:
    qm.parent.mkdir(parents=True, exist_ok=True)
    cmd = [tool("pyside6-lrelease"), "-removeidentical", str(ts), "-qm", str(qm)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)


def main() -> int:
    lupdate(TS)
    lrelease(TS, QM)
    unfinished = TS.read_text(encoding="utf-8").count('type="unfinished"')
    print(f"{TS.relative_to(ROOT)}: {unfinished} string(s) still to translate")
    print(f"{QM.relative_to(ROOT)} written")
    return 1 if unfinished else 0


if __name__ == "__main__":
    raise SystemExit(main())
