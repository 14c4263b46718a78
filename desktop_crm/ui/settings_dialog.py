"""The settings dialog: database, dialling rules, SIP accounts, IMAP, pop-up, language.

Every value goes through the one settings registry (:mod:`desktop_crm.settings`): the dialog
only offers keys the registry declares, and :func:`save_settings` checks them again before the
file is written. Passwords never go into the file: they go into the system keyring under the
name the settings give (``database.secret``, ``[[sip]] secret``). Where no secure keyring exists
the dialog says so in words and the password fields are disabled.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_crm import secrets
from desktop_crm.data.db import Database, parse_url
from desktop_crm.data.phone import format_international
from desktop_crm.identify.caller import read_caller_id
from desktop_crm.identify.rules import DialingRules
from desktop_crm.settings import SECTIONS, Settings, SettingsError, save_settings

from .tasks import TaskContext, TaskRunner

OK = "#2e7d32"
BAD = "#c62828"


def _label(text: str, *, colour: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    if colour:
        label.setStyleSheet(f"color: {colour};")
    return label


class SettingsDialog(QDialog):
    """Edit a copy of the settings; Save writes the file and the keyring, Cancel forgets all."""

    PAGES = ("database", "dialing", "sip", "imap", "popup", "language")

    def __init__(
        self, settings: Settings, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(self.tr("Settings"))
        self.settings = settings
        self.runner = runner
        self.values = copy.deepcopy(settings.values)
        self.sip = [dict(e) for e in settings.lists.get("sip", [])]
        self.keyring_problem = secrets.backend_problem()
        self.saved = False

        self.navigation = QListWidget()
        self.navigation.setObjectName("settingsNavigation")
        self.navigation.setStyleSheet("QListWidget#settingsNavigation::item { padding: 5px 8px; }")
        self.stack = QStackedWidget()
        for title, page in (
            (self.tr("Database"), self._database_page()),
            (self.tr("Dialling rules"), self._dialing_page()),
            (self.tr("SIP account"), self._sip_page()),
            (self.tr("IMAP accounts"), self._imap_page()),
            (self.tr("Pop-up"), self._popup_page()),
            (self.tr("Language"), self._language_page()),
        ):
            self.navigation.addItem(title)
            self.stack.addWidget(page)
        self.navigation.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.navigation.setCurrentRow(0)
        self.navigation.setFixedWidth(
            max(
                self.fontMetrics().horizontalAdvance(self.navigation.item(i).text())
                for i in range(self.navigation.count())
            )
            + 36
        )

        body = QHBoxLayout()
        body.addWidget(self.navigation)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        self.error_label = _label("", colour=BAD)
        self.error_label.setObjectName("settingsError")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        note = _label(
            self.tr(
                "Changes to the database, the telephony and the language apply at the next start."
            ),
        )
        note.setEnabled(False)
        layout.addWidget(note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(760, 520)

    # --- helpers ---------------------------------------------------------------------------

    def _get(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        setting = SECTIONS[section].setting(key)
        assert setting is not None
        return self.values.get(section, {}).get(key, setting.default)

    def _set(self, dotted: str, value: Any) -> None:
        section, key = dotted.split(".", 1)
        self.values.setdefault(section, {})[key] = value

    def _page(self, heading: str) -> tuple[QWidget, QVBoxLayout, QFormLayout]:
        page = QWidget()
        layout = QVBoxLayout(page)
        title = QLabel(f"<b>{heading}</b>")
        layout.addWidget(title)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)
        return page, layout, form

    def _keyring_warning(self, layout: QVBoxLayout) -> None:
        if self.keyring_problem:
            warning = _label(
                self.tr(
                    "Passwords cannot be stored: {problem} Until then, enter the password "
                    "with the command `desktop-crm secret set NAME` on a system that has one, "
                    "or leave it empty."
                ).format(problem=self.keyring_problem),
                colour=BAD,
            )
            warning.setObjectName("keyringWarning")
            layout.addWidget(warning)

    def _password_edit(self, name: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        if self.keyring_problem:
            edit.setEnabled(False)
            edit.setPlaceholderText(self.tr("no secure keyring on this system"))
        else:
            edit.setPlaceholderText(self.tr("unchanged (stored in the system keyring)"))
        return edit

    # --- pages -----------------------------------------------------------------------------

    def _database_page(self) -> QWidget:
        page, layout, form = self._page(self.tr("Database"))
        self.url_edit = QLineEdit(str(self._get("database.url")))
        self.url_edit.setObjectName("databaseUrl")
        self.url_edit.setPlaceholderText(
            self.tr("empty: a file in your user folder; or postgresql://user@server/crm")
        )
        form.addRow(self.tr("Database URL:"), self.url_edit)
        self.db_secret_edit = QLineEdit(str(self._get("database.secret")))
        self.db_secret_edit.setObjectName("databaseSecret")
        self.db_secret_edit.setPlaceholderText(self.tr("e.g. crm-db (PostgreSQL only)"))
        form.addRow(self.tr("Keyring entry:"), self.db_secret_edit)
        self.db_password_edit = self._password_edit("databasePassword")
        form.addRow(self.tr("Password:"), self.db_password_edit)
        row = QHBoxLayout()
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.setObjectName("testConnection")
        self.test_button.clicked.connect(self.test_connection)
        row.addWidget(self.test_button)
        self.test_result = QLabel()
        self.test_result.setObjectName("connectionResult")
        self.test_result.setWordWrap(True)
        row.addWidget(self.test_result, 1)
        layout.addLayout(row)
        self._keyring_warning(layout)
        layout.addStretch(1)
        return page

    def _dialing_page(self) -> QWidget:
        page, layout, form = self._page(self.tr("Dialling rules"))
        self.country_edit = QLineEdit(str(self._get("dialing.country")))
        self.country_edit.setObjectName("dialingCountry")
        self.country_edit.setMaxLength(2)
        form.addRow(self.tr("Home country:"), self.country_edit)
        self.area_edit = QLineEdit(str(self._get("dialing.area_code")))
        self.area_edit.setObjectName("dialingArea")
        self.area_edit.setPlaceholderText(self.tr("e.g. 89 for Munich"))
        form.addRow(self.tr("Home area code:"), self.area_edit)
        self.prefix_edit = QLineEdit(str(self._get("dialing.outside_line_prefix")))
        self.prefix_edit.setObjectName("dialingPrefix")
        self.prefix_edit.setPlaceholderText(self.tr("e.g. 0, if the PBX adds it"))
        form.addRow(self.tr("Outside-line prefix:"), self.prefix_edit)
        self.extension_edit = QLineEdit(str(self._get("dialing.internal_extension_digits")))
        self.extension_edit.setObjectName("dialingExtensions")
        form.addRow(self.tr("Internal extensions (digits):"), self.extension_edit)
        self.suffix_box = QSpinBox()
        self.suffix_box.setRange(6, 15)
        self.suffix_box.setValue(int(self._get("dialing.suffix_digits")))
        form.addRow(self.tr("Digits compared at least:"), self.suffix_box)
        self.sample_edit = QLineEdit("0421 70331-66")
        self.sample_edit.setObjectName("dialingSample")
        form.addRow(self.tr("Try a caller ID:"), self.sample_edit)
        self.sample_result = QLabel()
        self.sample_result.setObjectName("dialingSampleResult")
        form.addRow("", self.sample_result)
        for edit in (
            self.country_edit,
            self.area_edit,
            self.prefix_edit,
            self.extension_edit,
            self.sample_edit,
        ):
            edit.textChanged.connect(lambda _t: self._try_sample())
        self._try_sample()
        layout.addStretch(1)
        return page

    def _rules(self) -> DialingRules:
        return DialingRules.from_settings(
            Settings(path=self.settings.path, values={"dialing": self._dialing_values()})
        )

    def _dialing_values(self) -> dict[str, Any]:
        return {
            "country": self.country_edit.text().strip().upper() or "DE",
            "area_code": self.area_edit.text().strip(),
            "outside_line_prefix": self.prefix_edit.text().strip(),
            "internal_extension_digits": self.extension_edit.text().strip(),
            "suffix_digits": self.suffix_box.value(),
        }

    def _try_sample(self) -> None:
        try:
            rules = self._rules()
        except (ValueError, SettingsError) as exc:
            self.sample_result.setText(str(exc))
            self.sample_result.setStyleSheet(f"color: {BAD};")
            return
        caller = read_caller_id(self.sample_edit.text(), rules)
        readings = [format_international(r.e164) or r.e164 for r in caller.readings]
        text = ", ".join(r for r in readings if r) or caller.display
        self.sample_result.setText(self.tr("is read as {number}").format(number=text))
        self.sample_result.setStyleSheet(f"color: {OK};")

    def _sip_page(self) -> QWidget:
        page, layout, form = self._page(self.tr("SIP account"))
        entry = self.sip[0] if self.sip else {}
        section = SECTIONS["sip"]
        self.sip_edits: dict[str, QLineEdit | QComboBox | QSpinBox] = {}
        self.sip_enabled = QCheckBox(self.tr("Listen for calls on this account"))
        self.sip_enabled.setObjectName("sipEnabled")
        self.sip_enabled.setChecked(bool(self.sip))
        layout.insertWidget(1, self.sip_enabled)
        titles = {
            "name": self.tr("Name:"),
            "mode": self.tr("Mode:"),
            "bind": self.tr("Listen on (address:port):"),
            "transport": self.tr("Transport:"),
            "registrar": self.tr("Registrar:"),
            "user": self.tr("User:"),
            "auth_user": self.tr("Authentication user:"),
            "expires": self.tr("Registration expires (s):"),
            "secret": self.tr("Keyring entry:"),
        }
        for key, title in titles.items():
            setting = section.setting(key)
            if setting is None:
                continue  # the registry of this version has no such key
            value = entry.get(key, setting.default)
            widget: QLineEdit | QComboBox | QSpinBox
            if setting.choices:
                widget = QComboBox()
                widget.addItems(list(setting.choices))
                widget.setCurrentText(str(value))
            elif setting.type is int:
                widget = QSpinBox()
                widget.setRange(0, 1_000_000)
                widget.setValue(int(value))
            else:
                widget = QLineEdit(str(value))
            widget.setObjectName(f"sip_{key}")
            widget.setToolTip(setting.description)
            self.sip_edits[key] = widget
            form.addRow(title, widget)
        self.sip_password_edit = self._password_edit("sipPassword")
        form.addRow(self.tr("Password:"), self.sip_password_edit)
        if section.setting("registrar") is None:
            layout.addWidget(
                _label(
                    self.tr(
                        "This version listens for calls a phone system forwards to it; "
                        "registering at a registrar comes with the SIP register mode."
                    )
                )
            )
        self._keyring_warning(layout)
        layout.addStretch(1)
        return page

    def _imap_page(self) -> QWidget:
        page, layout, _form = self._page(self.tr("IMAP accounts"))
        if "imap" in SECTIONS:
            from .imap_settings import ImapAccountsEditor

            self.imap_editor = ImapAccountsEditor(
                list(self.settings.lists.get("imap", [])),
                self.runner,
                self.keyring_problem,
            )
            layout.addWidget(self.imap_editor)
            self._keyring_warning(layout)
        else:
            text = self.tr(
                "Mailboxes are set up here once the mail watcher is part of this version: "
                "mails from known customers then land in their history."
            )
            info = _label(text)
            info.setObjectName("imapPlaceholder")
            layout.addWidget(info)
        layout.addStretch(1)
        return page

    def _popup_page(self) -> QWidget:
        page, layout, form = self._page(self.tr("Caller pop-up"))
        self.corner_box = QComboBox()
        self.corner_box.setObjectName("popupCorner")
        for value, text in (
            ("bottom-right", self.tr("bottom right")),
            ("top-right", self.tr("top right")),
            ("bottom-left", self.tr("bottom left")),
            ("top-left", self.tr("top left")),
        ):
            self.corner_box.addItem(text, value)
        self.corner_box.setCurrentIndex(self.corner_box.findData(self._get("popup.corner")))
        form.addRow(self.tr("Screen corner:"), self.corner_box)
        self.close_box = QSpinBox()
        self.close_box.setObjectName("popupAutoClose")
        self.close_box.setRange(0, 600)
        self.close_box.setSuffix(self.tr(" s"))
        self.close_box.setSpecialValueText(self.tr("never"))
        self.close_box.setValue(int(self._get("popup.auto_close_seconds")))
        form.addRow(self.tr("Close a missed call after:"), self.close_box)
        self.on_top_box = QCheckBox(self.tr("Always on top of other windows"))
        self.on_top_box.setChecked(bool(self._get("popup.always_on_top")))
        form.addRow("", self.on_top_box)
        self.cards_box = QSpinBox()
        self.cards_box.setRange(1, 6)
        self.cards_box.setValue(int(self._get("popup.max_cards")))
        form.addRow(self.tr("Calls shown at once:"), self.cards_box)
        layout.addStretch(1)
        return page

    def _language_page(self) -> QWidget:
        page, layout, form = self._page(self.tr("Language"))
        self.language_box = QComboBox()
        self.language_box.setObjectName("languageBox")
        for value, text in (
            ("system", self.tr("as the system")),
            ("de", "Deutsch"),
            ("en", "English"),
        ):
            self.language_box.addItem(text, value)
        self.language_box.setCurrentIndex(self.language_box.findData(self._get("ui.language")))
        form.addRow(self.tr("Language:"), self.language_box)
        layout.addStretch(1)
        return page

    # --- test and save -----------------------------------------------------------------------

    def test_connection(self) -> None:
        """Open the database the page names (in the background) and say what was found."""
        url_text = self.url_edit.text().strip()
        password = self.db_password_edit.text()
        secret_name = self.db_secret_edit.text().strip()
        self.test_button.setEnabled(False)
        self.test_result.setText(self.tr("Connecting…"))
        self.test_result.setStyleSheet("")

        def work(_context: TaskContext) -> str:
            from desktop_crm.data.db import default_sqlite_url
            from desktop_crm.settings import default_data_dir

            url = parse_url(url_text or default_sqlite_url(default_data_dir()))
            if url.get_backend_name() != "sqlite" and url.password is None:
                if password:
                    url = url.set(password=password)
                elif secret_name:
                    url = url.set(password=secrets.get_secret(secret_name))
            db = Database(url, pooled=False)
            try:
                state = db.schema_state()
            finally:
                db.dispose()
            return "ok" if state.up_to_date else ("empty" if state.empty else "old")

        def done(result: str) -> None:
            self.test_button.setEnabled(True)
            text = {
                "ok": self.tr("Connected; the database is ready."),
                "empty": self.tr("Connected; the database is empty and is set up at the start."),
                "old": self.tr(
                    "Connected, but the database needs another schema version "
                    "(desktop-crm db upgrade)."
                ),
            }[result]
            self.test_result.setText(text)
            self.test_result.setStyleSheet(f"color: {OK if result != 'old' else BAD};")

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            self.test_result.setText(self.tr("Failed: {reason}").format(reason=str(exc)))
            self.test_result.setStyleSheet(f"color: {BAD};")

        self.runner.run(work, on_done=done, on_error=failed, name="test-connection")

    def collect(self) -> Settings:
        """The settings the dialog shows, as a new :class:`Settings` (nothing written)."""
        self._set("database.url", self.url_edit.text().strip())
        self._set("database.secret", self.db_secret_edit.text().strip())
        for key, value in self._dialing_values().items():
            self._set(f"dialing.{key}", value)
        self._set("popup.corner", self.corner_box.currentData())
        self._set("popup.auto_close_seconds", self.close_box.value())
        self._set("popup.always_on_top", self.on_top_box.isChecked())
        self._set("popup.max_cards", self.cards_box.value())
        self._set("ui.language", self.language_box.currentData())
        lists = copy.deepcopy(self.settings.lists)
        if self.sip_enabled.isChecked():
            entry = dict(self.sip[0]) if self.sip else {}
            for key, widget in self.sip_edits.items():
                if isinstance(widget, QComboBox):
                    entry[key] = widget.currentText()
                elif isinstance(widget, QSpinBox):
                    entry[key] = widget.value()
                else:
                    entry[key] = widget.text().strip()
            lists["sip"] = [entry, *self.sip[1:]]
        else:
            lists.pop("sip", None)
        if hasattr(self, "imap_editor"):
            if imap := self.imap_editor.entries():
                lists["imap"] = imap
            else:
                lists.pop("imap", None)
        return Settings(
            path=self.settings.path,
            values=copy.deepcopy(self.values),
            lists=lists,
            file_exists=self.settings.file_exists,
        )

    def save(self) -> None:
        try:
            self._rules()  # a country code that is not one is refused here, in words
            new = self.collect()
            passwords = []
            if self.db_password_edit.text():
                name = str(new.values.get("database", {}).get("secret") or "database")
                new.values.setdefault("database", {})["secret"] = name
                passwords.append((name, self.db_password_edit.text()))
            if self.sip_enabled.isChecked() and self.sip_password_edit.text():
                entry = new.lists["sip"][0]
                name = str(entry.get("secret") or f"sip-{entry.get('name') or 'sip'}")
                if SECTIONS["sip"].setting("secret") is not None:
                    entry["secret"] = name
                passwords.append((name, self.sip_password_edit.text()))
            if hasattr(self, "imap_editor"):
                from desktop_crm.mail import accounts_from_settings

                accounts_from_settings(new.lists.get("imap", []))  # refused here, in words
                passwords.extend(self.imap_editor.passwords())
            for name, password in passwords:
                secrets.set_secret(name, password)
            save_settings(new)
        except (SettingsError, secrets.SecretError, ValueError, OSError) as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        self.settings.values, self.settings.lists = new.values, new.lists
        self.settings.file_exists = True
        self.saved = True
        self.accept()
