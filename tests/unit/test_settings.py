"""The settings registry: defaults, validation with file/line/key, and the secrets rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_crm import secrets
from desktop_crm.settings import SECTIONS, SettingsError, describe, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "desktop-crm.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_default_file_means_defaults() -> None:
    settings = load_settings()
    assert not settings.file_exists
    assert settings.get("database.url") == ""
    assert settings.get("ui.language") == "system"


def test_values_override_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///x.db"\n\n[ui]\nlanguage = "de"\n')
    settings = load_settings(path)
    assert settings.get("database.url") == "sqlite:///x.db"
    assert settings.get("ui.language") == "de"
    assert settings.get("ui.offer_demo_data") is True


def test_env_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[ui]\nlanguage = "en"\n')
    monkeypatch.setenv("DESKTOP_CRM_CONFIG", str(path))
    assert load_settings().get("ui.language") == "en"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[database]\nurl = "x"\nurll = "y"\n', ":3: unknown key 'urll' in [database]"),
        ('[ui]\n\nlanguage = "fr"\n', ":3: [ui] language: must be one of"),
        ("[ui]\noffer_demo_data = 1\n", ":2: [ui] offer_demo_data: expected true or false"),
        ('[databse]\nurl = "x"\n', ":1: unknown section or key 'databse'"),
        ('[database]\nurl = "x\n', "not valid TOML"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_every_setting_is_documented() -> None:
    text = describe()
    for section in SECTIONS.values():
        for setting in section.settings:
            assert setting.description, f"{section.name}.{setting.key} has no description"
            assert f"# {setting.key}:" in text


def test_no_setting_holds_a_password() -> None:
    for section in SECTIONS.values():
        for setting in section.settings:
            assert "password" not in setting.key.lower(), "passwords belong in the keyring"


def test_secret_round_trip_through_keyring(memory_keyring) -> None:
    secrets.set_secret("database", "s3cr3t")
    assert secrets.get_secret("database") == "s3cr3t"
    assert memory_keyring.store == {("desktop_crm", "database"): "s3cr3t"}


def test_missing_secret_says_how_to_store_it() -> None:
    with pytest.raises(secrets.SecretError, match="desktop-crm secret set sip-100"):
        secrets.get_secret("sip-100")


def test_no_keyring_backend_is_said_plainly() -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(secrets.SecretError, match="No secure keyring"):
        secrets.set_secret("database", "x")
