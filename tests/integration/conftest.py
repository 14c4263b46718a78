"""Fixtures of the integration tests: a private Kamailio registrar and real sipp/sipsak peers.

- ``kamailio``: a running `KamailioServer` for the session (``.hostport``, ``.realm``,
  ``.user("100")`` -> name + password generated for the session, ``.uri("100")``).
- ``kamailio_sha256``: the same, but challenging for SHA-256 digests (``algorithm=SHA-256``).
- ``kamailio_dialog``: a third one that also is an RFC 4235 ``dialog`` event server: a
  SUBSCRIBE with ``Event: dialog`` to an extension (digest-authenticated like REGISTER) gets
  NOTIFYs with application/dialog-info+xml as calls to it ring, are answered and end
  (needs kamailio-presence-modules).
- ``sipp_dialog``: a `SippPeers` like ``sipp``, but calling and registering with
  ``kamailio_dialog``.
- ``sipp``: a `SippPeers` for one test: ``.uas()`` starts a desk phone, ``.uac("100")`` a
  caller through the registrar; every peer still running is stopped when the test ends.
- ``crm``: an empty SQLite CRM database in the test's folder.
- ``sipsak``: the path of sipsak, for `tests.helpers.sipp.register`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_crm.data.db import Database
from tests.helpers.integration import need_binary, unavailable
from tests.helpers.kamailio import KamailioServer, kamailio_server
from tests.helpers.sipp import SippPeers, sipp_peers


@pytest.fixture(scope="session")
def kamailio_or_reason() -> Iterator[KamailioServer | str]:
    with kamailio_server() as server:
        yield server


@pytest.fixture(scope="session")
def kamailio_sha256_or_reason() -> Iterator[KamailioServer | str]:
    with kamailio_server(algorithm="SHA-256") as server:
        yield server


@pytest.fixture
def kamailio_sha256(kamailio_sha256_or_reason: KamailioServer | str) -> KamailioServer:
    """A second registrar whose challenges ask for SHA-256 digests (qop=auth)."""
    if isinstance(kamailio_sha256_or_reason, str):
        unavailable(kamailio_sha256_or_reason)
        raise AssertionError("unreachable")
    return kamailio_sha256_or_reason


@pytest.fixture(scope="session")
def kamailio_dialog_or_reason() -> Iterator[KamailioServer | str]:
    with kamailio_server(dialog_state=True) as server:
        yield server


@pytest.fixture
def kamailio_dialog(kamailio_dialog_or_reason: KamailioServer | str) -> KamailioServer:
    """A registrar + forking proxy that also serves SUBSCRIBE/NOTIFY for ``Event: dialog``."""
    if isinstance(kamailio_dialog_or_reason, str):
        unavailable(kamailio_dialog_or_reason)
        raise AssertionError("unreachable")
    return kamailio_dialog_or_reason


@pytest.fixture
def kamailio(kamailio_or_reason: KamailioServer | str) -> KamailioServer:
    if isinstance(kamailio_or_reason, str):
        unavailable(kamailio_or_reason)
        raise AssertionError("unreachable")
    return kamailio_or_reason


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[Database]:
    """An empty CRM database (SQLite) for a test that watches calls land in the history."""
    db = Database(f"sqlite:///{tmp_path / 'crm.db'}")
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def sipsak() -> str:
    return need_binary("sipsak", "sipsak")


@pytest.fixture
def sipp(kamailio: KamailioServer, tmp_path: Path) -> Iterator[SippPeers]:
    binary = need_binary("sipp", "sip-tester")
    with sipp_peers(binary, tmp_path / "sipp", kamailio) as peers:
        yield peers


@pytest.fixture
def sipp_dialog(kamailio_dialog: KamailioServer, tmp_path: Path) -> Iterator[SippPeers]:
    binary = need_binary("sipp", "sip-tester")
    with sipp_peers(binary, tmp_path / "sipp", kamailio_dialog) as peers:
        yield peers


# --- mail: a private Dovecot (issue 5) --------------------------------------------------------

from tests.helpers.dovecot import DovecotServer, dovecot_server  # noqa: E402


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[DovecotServer]:
    """A private Dovecot for one test (``.port`` plain + STARTTLS, ``.tls_port`` implicit TLS,
    ``.user("anna")``, ``.cert_path``, ``.deliver()``, ``.restart()``): a test may stop and
    restart it, so each test gets its own."""
    with dovecot_server() as server:
        if isinstance(server, str):
            unavailable(server)
            raise AssertionError("unreachable")
        yield server
