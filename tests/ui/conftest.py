"""Fixtures of the desktop-client tests: windows on real databases, languages, small data sets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from desktop_crm.data import history, records
from desktop_crm.data.db import Database
from desktop_crm.data.history import InteractionInput
from desktop_crm.data.models import Direction, InteractionKind, PhoneKind
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput
from desktop_crm.settings import Settings
from desktop_crm.ui.i18n import install_translators
from desktop_crm.ui.main_window import MainWindow
from desktop_crm.ui.startup import open_main_window


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The offscreen platform warns whenever a tool window (the caller pop-up) is shown: it
    cannot raise windows. Nothing a user ever sees; every other Qt warning still fails."""
    for item in items:
        if "tests/ui/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore("This plugin does not support raise"))


def need_demo() -> Any:
    """The demo module (the tests patch ``seed_demo`` on it)."""
    from desktop_crm.data import demo

    return demo


def make_settings(tmp_path: Path, **ui: Any) -> Settings:
    return Settings(path=tmp_path / "desktop-crm.toml", values={"ui": dict(ui)})


@pytest.fixture
def language(qapp: QApplication) -> Iterator[Callable[[str], str]]:
    """Switch the client's language for this test; English again afterwards."""
    yield lambda setting: install_translators(qapp, setting)
    install_translators(qapp, "en")


@pytest.fixture
def open_window(
    qapp: QApplication, qtbot: Any, tmp_path: Path, language: Callable[[str], str]
) -> Callable[..., MainWindow]:
    """Open the main window as the client does (translators, window, first-start offer)."""

    def open_(
        db: Database,
        *,
        lang: str = "en",
        is_default_database: bool = False,
        confirm: Callable[[Any], bool] | None = None,
        **ui: Any,
    ) -> MainWindow:
        settings = make_settings(tmp_path, language=lang, **ui)

        def refuse(_parent: Any) -> bool:
            raise AssertionError("the demo-data question was asked although no answer was given")

        window = open_main_window(
            qapp,
            db,
            settings,
            is_default_database=is_default_database,
            confirm=confirm or refuse,
        )
        qtbot.addWidget(window)  # closed at the end of the test, which stops its workers
        qtbot.waitExposed(window)
        # the list is read in the background; tests start once it is shown
        qtbot.waitUntil(lambda: window._loaded_once and not window.detail_loading, timeout=10_000)
        return window

    return open_


@dataclass(frozen=True)
class SmallData:
    anna: int
    bernd: int
    hidden_number: str  # Bernd's mobile number, found only by number search
    anna_subjects_newest_first: list[str]


def seed_small(db: Database) -> SmallData:
    """Three people, one organization, a history in mixed insertion order."""
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    with db.session() as s:
        org = records.create_organization(
            s, OrganizationInput(name="Müller Anlagenbau GmbH", customer_number="K-1001")
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                position="Einkauf",
                organization_id=org.id,
                city="München",
                phones=[PhoneInput("089/2020447-25")],
                emails=[EmailInput("anna.schaefer@mueller-anlagenbau.de")],
            ),
        )
        bernd = records.create_contact(
            s,
            ContactInput(
                first_name="Bernd",
                last_name="Zimmermann",
                city="Hamburg",
                phones=[PhoneInput("0171 5558123", PhoneKind.MOBILE)],
            ),
        )
        records.create_contact(s, ContactInput(first_name="Clara", last_name="Schmidt"))
        entries = [
            ("Angebot Wartungsvertrag", InteractionKind.EMAIL, timedelta(days=10)),
            ("Rückruf wegen Rechnung", InteractionKind.CALL, timedelta(hours=2)),
            ("Besuch vor Ort", InteractionKind.MEETING, timedelta(days=40)),
            ("Notiz zum Vertrag", InteractionKind.NOTE, timedelta(days=1)),
        ]
        for subject, kind, ago in entries:
            history.log_interaction(
                s,
                InteractionInput(
                    kind=kind,
                    contact_id=anna.id,
                    direction=Direction.INBOUND if kind == InteractionKind.CALL else Direction.NONE,
                    outcome="answered" if kind == InteractionKind.CALL else "",
                    duration_seconds=185 if kind == InteractionKind.CALL else None,
                    subject=subject,
                    body=f"Text zu {subject}",
                    occurred_at=now - ago,
                ),
            )
        ids = (anna.id, bernd.id)
    newest_first = [e[0] for e in sorted(entries, key=lambda e: e[2])]
    return SmallData(ids[0], ids[1], "0171 5558123", newest_first)


def seed(db: Database) -> None:
    """The demo data set the first start offers."""
    from desktop_crm.data.demo import seed_demo

    seed_demo(db, contacts=250)
