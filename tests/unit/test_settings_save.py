"""Writing the settings file (the settings dialog's save): only registry keys, reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_crm.settings import (
    Settings,
    SettingsError,
    dump_settings,
    load_settings,
    save_settings,
)


def test_save_writes_what_differs_from_the_defaults_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "desktop-crm.toml"
    settings = Settings(
        path=path,
        values={
            "ui": {"language": "de", "offer_demo_data": True},
            "popup": {"corner": "top-left", "auto_close_seconds": 0},
            "dialing": {"area_code": '8"9'},
        },
        lists={"simulator": [{"name": "Schulung", "speed": 10.0, "loop": True}]},
    )
    save_settings(settings)
    text = path.read_text(encoding="utf-8")
    assert "offer_demo_data" not in text  # the default is not written
    loaded = load_settings(path)
    assert loaded.get("ui.language") == "de"
    assert loaded.get("popup.auto_close_seconds") == 0
    assert loaded.get("dialing.area_code") == '8"9'
    assert loaded.entries("simulator")[0]["loop"] is True


def test_an_unknown_key_or_a_wrong_type_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not a known setting"):
        dump_settings(Settings(path=tmp_path / "a.toml", values={"ui": {"colour": "blau"}}))
    with pytest.raises(SettingsError, match="max_cards"):
        save_settings(Settings(path=tmp_path / "b.toml", values={"popup": {"max_cards": "drei"}}))
    assert not (tmp_path / "b.toml").exists()
