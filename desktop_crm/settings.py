"""The one settings registry: every key is declared here once, with type, default and meaning.

The settings file is TOML (``desktop-crm.toml`` in the user's config directory, or
``--config FILE`` / ``DESKTOP_CRM_CONFIG``). A key that is not declared here, or a value of the
wrong type, is reported with the file, the line and the key, so a typo never silently falls back
to a default. Passwords are never settings: a setting such as ``database.secret`` only *names* a
keyring entry (see :mod:`desktop_crm.secrets`).

Later features add their sections by declaring them in :data:`SECTIONS` (``[dialing]``,
``[[sip]]``, ``[[imap]]``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "desktop-crm"
CONFIG_ENV = "DESKTOP_CRM_CONFIG"
DATABASE_URL_ENV = "DESKTOP_CRM_DATABASE_URL"


class SettingsError(Exception):
    """A settings file that cannot be used; the message names file, line and key."""


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: Any
    description: str
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> str | None:
        """Return why ``value`` is not acceptable, or None."""
        expected = self.type
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return None
        if expected is int and isinstance(value, bool):
            return f"expected a whole number, got {value!r}"
        if expected is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"expected a list of strings, got {value!r}"
            return None
        if not isinstance(value, expected):
            names = {
                str: "a string",
                int: "a whole number",
                bool: "true or false",
                float: "a number",
            }
            return f"expected {names.get(expected, expected.__name__)}, got {value!r}"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(map(repr, self.choices))}, got {value!r}"
        return None


@dataclass(frozen=True)
class Section:
    name: str
    description: str
    settings: tuple[Setting, ...]
    many: bool = False  # an array of tables ([[sip]]), one entry per account

    def setting(self, key: str) -> Setting | None:
        return next((s for s in self.settings if s.key == key), None)

    def defaults(self) -> dict[str, Any]:
        return {s.key: s.default for s in self.settings}


SECTIONS: dict[str, Section] = {
    "database": Section(
        "database",
        "Where the CRM keeps its data.",
        (
            Setting(
                "url",
                str,
                "",
                "SQLAlchemy URL, e.g. sqlite:///C:/crm/crm.db or postgresql://anna@crm-server/crm; "
                "empty: a SQLite file in the user's data directory",
            ),
            Setting(
                "secret",
                str,
                "",
                "name of the keyring entry holding the database password "
                "(desktop-crm secret set NAME); empty: password from the URL or none",
            ),
        ),
    ),
    "ui": Section(
        "ui",
        "The desktop client.",
        (
            Setting(
                "language",
                str,
                "system",
                "language of the desktop client: de, en or system",
                ("system", "de", "en"),
            ),
            Setting(
                "offer_demo_data",
                bool,
                True,
                "offer demo data when the client starts on an empty default database",
            ),
        ),
    ),
    "popup": Section(
        "popup",
        "The caller pop-up of the desktop client.",
        (
            Setting(
                "corner",
                str,
                "bottom-right",
                "screen corner the pop-up appears in",
                ("bottom-right", "top-right", "bottom-left", "top-left"),
            ),
            Setting(
                "auto_close_seconds",
                int,
                10,
                "seconds after a missed (or elsewhere answered) call until its card closes by "
                "itself, unless the agent is typing a note into it; 0: never",
            ),
            Setting("always_on_top", bool, True, "keep the pop-up above other windows"),
            Setting(
                "max_cards",
                int,
                3,
                "calls shown at once; further calls are counted, not stacked (1 to 6)",
            ),
        ),
    ),
    "dialing": Section(
        "dialing",
        "How incoming caller numbers are read: home country and area, the PBX's habits.",
        (
            Setting(
                "country",
                str,
                "DE",
                "home country as ISO code (DE, AT, CH, …): a number without country code is read "
                "in the country of the record's address, else in this one",
            ),
            Setting(
                "area_code",
                str,
                "",
                'home area code, e.g. "89" for Munich (a leading 0 is ignored): completes local '
                "calls that arrive without it; empty: unknown",
            ),
            Setting(
                "outside_line_prefix",
                str,
                "",
                'the PBX\'s outside-line digit(s), e.g. "0", which it may put in front of every '
                "incoming number; empty: the PBX adds nothing",
            ),
            Setting(
                "internal_extension_digits",
                str,
                "2-4",
                'length of internal extensions, one length ("3") or a range ("2-4"): such a '
                "caller is a colleague (matched to a user), not a customer; empty: none",
            ),
            Setting(
                "suffix_digits",
                int,
                8,
                "trailing digits compared by the last-resort suffix match, used only when a "
                "caller ID is not a complete number (6 to 15)",
            ),
        ),
    ),
    "sip": Section(
        "sip",
        "A SIP account the listener watches for incoming calls (one table per account).",
        (
            Setting("name", str, "sip", "name of this source in the history, e.g. office"),
            Setting(
                "mode",
                str,
                "listen",
                "register: register as an extension at the registrar (the desk phone keeps "
                "ringing too); listen: only receive INVITEs sent to bind (a PBX forks calls there)",
                ("listen", "register"),
            ),
            Setting(
                "bind",
                str,
                "127.0.0.1:5062",
                "address:port the user agent listens on (0.0.0.0:5062: every interface; the "
                "registration then names the address that reaches the registrar)",
            ),
            Setting("transport", str, "udp", "udp or tcp", ("udp", "tcp")),
            Setting(
                "registrar",
                str,
                "",
                "register mode: the registrar's host:port, e.g. 192.168.1.10:5060 or "
                "pbx.example.com (port 5060 when left out)",
            ),
            Setting("user", str, "", 'register mode: the extension to register, e.g. "100"'),
            Setting(
                "auth_user",
                str,
                "",
                "register mode: the user name for digest authentication; empty: the same as user",
            ),
            Setting(
                "domain",
                str,
                "",
                "register mode: the SIP domain of the extension; empty: the registrar's host:port",
            ),
            Setting(
                "secret",
                str,
                "",
                "register mode: name of the keyring entry holding the password "
                "(desktop-crm secret set NAME); the password itself is never in this file",
            ),
            Setting(
                "expires",
                int,
                600,
                "register mode: seconds a registration is asked to last; it is refreshed before",
            ),
            Setting(
                "keepalive",
                int,
                25,
                "register mode: seconds between keep-alive packets that hold NAT and firewall "
                "bindings open; 0: none",
            ),
            Setting(
                "dialog_state",
                bool,
                True,
                "register mode: subscribe to the extension's dialog state (RFC 4235) where the "
                "PBX offers it, so calls answered on the desk phone are logged with duration and "
                "calls it makes are logged as outgoing",
            ),
            Setting(
                "identity_headers",
                list,
                ["P-Asserted-Identity", "Remote-Party-ID", "From"],
                "where the caller's number is read, first found wins",
            ),
            Setting(
                "max_calls", int, 10000, "calls kept in memory at once (a flood beyond is dropped)"
            ),
        ),
        many=True,
    ),
    "imap": Section(
        "imap",
        "A mailbox the watcher reads (one table per account): mail from and to customers lands "
        "in their history, unknown senders in the unassigned-mail list.",
        (
            Setting(
                "name",
                str,
                "mail",
                "name of this account (unique; the read position of each folder is stored "
                "under it)",
            ),
            Setting("host", str, "", "IMAP server, e.g. imap.example.de"),
            Setting(
                "port",
                int,
                0,
                "IMAP port; 0: the standard one (993 for tls = implicit, else 143)",
            ),
            Setting(
                "tls",
                str,
                "implicit",
                "implicit: TLS from the first byte (port 993); starttls: plain, then STARTTLS "
                "(port 143; refused if the server does not offer it); none: unencrypted, "
                "for a server on this machine only",
                ("implicit", "starttls", "none"),
            ),
            Setting("user", str, "", "login name at the IMAP server"),
            Setting(
                "secret",
                str,
                "",
                "name of the keyring entry holding the password (desktop-crm secret set NAME)",
            ),
            Setting(
                "folders",
                list,
                ["INBOX", "Sent"],
                "folders to watch; mail in the Sent folder (the server's \\Sent folder, or one "
                "named Sent, Sent Items, Gesendet, …) is logged as outgoing on each recipient",
            ),
            Setting(
                "verify_certificate",
                bool,
                True,
                "check the server's TLS certificate; false accepts any certificate (only for "
                "an office server with a self-signed one; prefer ca_file)",
            ),
            Setting(
                "ca_file",
                str,
                "",
                "PEM file with the certificate (or CA) to trust for this server, e.g. a "
                "self-signed office server's; empty: the system's CAs",
            ),
            Setting(
                "lookback_days",
                int,
                90,
                "on the first start (or after the server renumbered a folder), read mail of "
                "this many days back; older mail is left alone",
            ),
            Setting(
                "poll_seconds",
                int,
                60,
                "how often folders are checked when the server offers no IDLE, and how often "
                "the folders not idled on are checked",
            ),
            Setting(
                "idle",
                bool,
                True,
                "use IMAP IDLE where the server offers it (new mail within a second); false: "
                "always poll",
            ),
            Setting(
                "max_message_bytes",
                int,
                50 * 1024 * 1024,
                "a larger message is skipped (and the reason logged); bodies are never "
                "downloaded whole, only headers, structure and the start of the text",
            ),
        ),
        many=True,
    ),
    "simulator": Section(
        "simulator",
        "Simulated incoming calls for demos, training and tests (desktop-crm listen).",
        (
            Setting("name", str, "simulator", "name of this source in the history (its 'line')"),
            Setting(
                "scenario",
                str,
                "",
                "TOML or JSON file of scripted calls; empty: the built-in demo scenario",
            ),
            Setting("speed", float, 1.0, "time factor: 10 plays a minute of calls in 6 seconds"),
            Setting("loop", bool, False, "start over after the last call"),
        ),
        many=True,
    ),
}


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / f"{APP_NAME}.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The settings file in use: ``--config``, then ``DESKTOP_CRM_CONFIG``, then the default."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    return default_config_path()


@dataclass
class Settings:
    """Effective settings: the file's values over the registry's defaults."""

    path: Path
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    file_exists: bool = False

    def get(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        sec = SECTIONS[section]
        if sec.many:
            raise KeyError(f"[[{section}]] is a list of tables; use entries({section!r})")
        setting = sec.setting(key)
        if setting is None:
            raise KeyError(dotted)
        return self.values.get(section, {}).get(key, setting.default)

    def entries(self, section: str) -> list[dict[str, Any]]:
        """The tables of an array section ([[sip]]), each completed with defaults."""
        sec = SECTIONS[section]
        return [{**sec.defaults(), **entry} for entry in self.lists.get(section, [])]

    def effective(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, sec in SECTIONS.items():
            if sec.many:
                out[name] = self.entries(name)
            else:
                out[name] = {**sec.defaults(), **self.values.get(name, {})}
        return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _line_of(text: str, section: str | None, key: str | None) -> int:
    """Best-effort line number of ``key`` in ``[section]`` (tomllib reports none)."""
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if m := _HEADER.match(line):
            current = m.group(2)
            if key is None and current == section:
                return number
            continue
        m = _KEY.match(line)
        if key is not None and current == section and m and m.group(1) == key:
            return number
    return 0


def parse_settings(text: str, path: Path) -> Settings:
    """Validate TOML text against the registry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc

    def where(section: str | None, key: str | None) -> str:
        line = _line_of(text, section, key)
        return f"{path}:{line}" if line else str(path)

    settings = Settings(path=path, file_exists=True)
    for name, value in data.items():
        sec = SECTIONS.get(name)
        if sec is None:
            known = ", ".join(sorted(SECTIONS))
            place = where(name, None) if isinstance(value, dict) else where(None, name)
            raise SettingsError(f"{place}: unknown section or key {name!r} (known: {known})")
        tables: list[Any] = value if sec.many and isinstance(value, list) else [value]
        if sec.many and not isinstance(value, list):
            raise SettingsError(f"{where(name, None)}: {name!r} must be written as [[{name}]]")
        if not sec.many and not isinstance(value, dict):
            raise SettingsError(f"{where(None, name)}: {name!r} must be a table [{name}]")
        checked: list[dict[str, Any]] = []
        for table in tables:
            if not isinstance(table, Mapping):
                raise SettingsError(f"{where(name, None)}: [[{name}]] entries must be tables")
            for key, item in table.items():
                setting = sec.setting(key)
                if setting is None:
                    known = ", ".join(s.key for s in sec.settings)
                    raise SettingsError(
                        f"{where(name, key)}: unknown key {key!r} in [{name}] (known: {known})"
                    )
                if problem := setting.check(item):
                    raise SettingsError(f"{where(name, key)}: [{name}] {key}: {problem}")
            checked.append(dict(table))
        if sec.many:
            settings.lists[name] = checked
        else:
            settings.values[name] = checked[0]
    return settings


def load_settings(explicit: str | os.PathLike[str] | None = None) -> Settings:
    """Read the settings file in use; a missing file means all defaults."""
    path = config_path(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise SettingsError(f"{path}: settings file not found") from None
        return Settings(path=path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read settings file: {exc}") from exc
    return parse_settings(text, path)


def describe() -> str:
    """Every setting with its type, default and meaning, as commented TOML."""
    lines: list[str] = []
    for sec in SECTIONS.values():
        lines.append(f"# {sec.description}")
        lines.append(f"[[{sec.name}]]" if sec.many else f"[{sec.name}]")
        for s in sec.settings:
            choices = f" ({', '.join(s.choices)})" if s.choices else ""
            lines.append(f"# {s.key}: {s.type.__name__}{choices}: {s.description}")
        lines.append("")
    return "\n".join(lines)


# --- writing the file (the settings dialog) -----------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value)
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def dump_settings(settings: Settings) -> str:
    """The settings as TOML: only values that differ from the defaults, sections in registry
    order, each key with its description as a comment. Checked against the registry first."""
    lines = [
        "# desktop_crm settings, written by the settings dialog (desktop-crm config show)",
        "",
    ]
    for name, sec in SECTIONS.items():
        tables = settings.lists.get(name, []) if sec.many else [settings.values.get(name, {})]
        for table in tables:
            written = {
                k: v
                for k, v in table.items()
                if sec.many or (s := sec.setting(k)) is None or v != s.default
            }
            if not written and not sec.many:
                continue
            lines.append(f"[[{name}]]" if sec.many else f"[{name}]")
            for key, value in written.items():
                setting = sec.setting(key)
                if setting is None:
                    raise SettingsError(f"[{name}] {key}: not a known setting")
                if problem := setting.check(value):
                    raise SettingsError(f"[{name}] {key}: {problem}")
                lines.append(f"# {setting.description}")
                lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
    return "\n".join(lines)


def save_settings(settings: Settings) -> None:
    """Write ``settings`` to its file (atomically: a crash leaves the old file, not half of one).

    Passwords are never written here; they go to the keyring (:mod:`desktop_crm.secrets`).
    """
    text = dump_settings(settings)
    parse_settings(text, settings.path)  # what we write must read back
    settings.path.parent.mkdir(parents=True, exist_ok=True)
    partial = settings.path.with_name(settings.path.name + ".new")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, settings.path)
    settings.file_exists = True
