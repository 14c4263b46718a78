"""Skipping when a real peer is not installed, and failing instead where CI requires it.

`.ci/run` sets DESKTOP_CRM_REQUIRE_INTEGRATION=1 after installing every server the tests use,
so CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REQUIRE_ENV = "DESKTOP_CRM_REQUIRE_INTEGRATION"
SHARED_TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip, or fail where integration tests are required."""
    if required():
        pytest.fail(f"{reason} (required because {REQUIRE_ENV} is set)", pytrace=False)
    pytest.skip(reason)


def need_binary(name: str, package: str, extra_dirs: tuple[str, ...] = ()) -> str:
    found = shutil.which(name)
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if not found and candidate.exists():
            found = str(candidate)
    if not found:
        unavailable(f"{name} is not installed (Debian package {package})")
    assert found is not None
    return found


def testdata(*parts: str) -> Path:
    """A file or folder of ../shared/testdata beside the checkout."""
    path = SHARED_TESTDATA.joinpath(*parts)
    if not path.exists():
        unavailable(f"shared test data {path} is not there (it lives beside the checkout)")
    return path
