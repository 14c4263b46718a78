"""A keyring for the desktop-crm processes a test starts (``PYTHON_KEYRING_BACKEND``).

The in-memory keyring of tests/conftest.py lives in the test process only; a ``desktop-crm
listen`` started as a subprocess reads its password through the standard
``PYTHON_KEYRING_BACKEND`` variable instead, which names this class. It keeps entries in a
file of the test's temporary folder (``DESKTOP_CRM_TEST_KEYRING``) that is readable by the
owner only and deleted with the folder: a test double of an OS keyring, never shipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend

ENV = "DESKTOP_CRM_TEST_KEYRING"


class ProcessKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[ENV])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\n{username}"] = password
        path = self._path()
        path.touch(mode=0o600)
        path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}\n{username}", None)
        self._path().write_text(json.dumps(data))
