"""``desktop-crm mail unassigned|assign|dismiss`` for the back office's scripts, and the
``[[imap]]`` settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_crm import cli
from desktop_crm.data import history, records
from desktop_crm.data.db import Database
from desktop_crm.data.models import MailDirection
from desktop_crm.data.records import ContactInput
from desktop_crm.mail.maillog import handle_mail
from desktop_crm.mail.message import parse_message
from desktop_crm.mail.watcher import ImapAccount, accounts_from_settings
from desktop_crm.settings import SettingsError, parse_settings


def unknown_mail(db: Database, n: int) -> None:
    raw = (
        f"From: Fremd {n} <fremd{n}@example.org>\r\nTo: support@crm.test\r\n"
        f"Subject: Anfrage {n}\r\nMessage-ID: <u{n}@x>\r\nDate: Mon, 2 Mar 2026 09:3{n}:00 +0100\r\n"
        "\r\nBitte melden.\r\n"
    ).encode()
    with db.session() as s:
        handle_mail(
            s,
            parse_message(raw),
            account="office",
            folder="INBOX",
            uid=n,
            direction=MailDirection.INBOUND,
        )


def test_the_back_office_lists_assigns_and_dismisses_unassigned_mail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        bernd = records.create_contact(s, ContactInput(first_name="Bernd")).id
    for n in (1, 2):
        unknown_mail(db, n)

    assert cli.main(["--database", url, "mail", "unassigned", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["from"], m["subject"]) for m in listed] == [
        ("fremd2@example.org", "Anfrage 2"),
        ("fremd1@example.org", "Anfrage 1"),
    ]
    first, second = listed[1]["id"], listed[0]["id"]
    assert cli.main(["--database", url, "mail", "assign", str(first), "--contact", str(bernd)]) == 0
    assert "logged as history entry" in capsys.readouterr().out
    assert cli.main(["--database", url, "mail", "dismiss", str(second)]) == 0
    assert cli.main(["--database", url, "mail", "unassigned"]) == 0
    assert "No unassigned mail." in capsys.readouterr().out
    assert cli.main(["--database", url, "mail", "unassigned", "--all"]) == 0
    out = capsys.readouterr().out
    assert "[assigned]" in out and "[dismissed]" in out
    # errors in words
    assert cli.main(["--database", url, "mail", "dismiss", str(second)]) == 1
    assert "already dismissed" in capsys.readouterr().err
    assert cli.main(["--database", url, "mail", "assign", str(first)]) == 1
    assert "--contact N or --organization N" in capsys.readouterr().err
    with db.session() as s:
        assert [e.subject for e in history.history(s, contact_id=bernd)] == ["Anfrage 1"]
    db.dispose()


def test_imap_settings(tmp_path: Path) -> None:
    settings = parse_settings(
        '[[imap]]\nhost = "imap.example.de"\nuser = "anna"\nsecret = "imap-anna"\n'
        '[[imap]]\nname = "support"\nhost = "mail.example.de"\nuser = "s"\nsecret = "s"\n'
        'tls = "starttls"\nfolders = ["INBOX", "Gesendet"]\nverify_certificate = false\n',
        tmp_path / "a.toml",
    )
    first, second = accounts_from_settings(settings.entries("imap"))
    assert first == ImapAccount(
        name="mail", host="imap.example.de", user="anna", secret="imap-anna"
    )
    assert (first.effective_port, first.folders, first.verify_certificate) == (
        993,
        ("INBOX", "Sent"),
        True,
    )
    assert (second.effective_port, second.tls, second.folders) == (
        143,
        "starttls",
        ("INBOX", "Gesendet"),
    )
    assert second.verify_certificate is False
    with pytest.raises(SettingsError, match="must be one of"):
        parse_settings('[[imap]]\ntls = "ssl"\n', tmp_path / "b.toml")
    with pytest.raises(ValueError, match="host, user, secret must be set"):
        accounts_from_settings([{"name": "x"}])
    with pytest.raises(ValueError, match="used twice"):
        accounts_from_settings([{"host": "h", "user": "u", "secret": "s"}] * 2)
    with pytest.raises(SettingsError, match="password"):
        parse_settings('[[imap]]\npassword = "geheim"\n', tmp_path / "c.toml")
