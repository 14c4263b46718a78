"""The settings dialog's IMAP page: the ``[[imap]]`` accounts, their passwords, a login test.

Passwords never go into the settings: each account names a keyring entry (``secret``); a
password typed here is written there when the dialog saves. "Test connection" logs in once in
the background with the watcher's own connect code (the same TLS rules) and says the result.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_crm import secrets
from desktop_crm.settings import SECTIONS

from .mail import check_connection
from .tasks import TaskContext, TaskRunner

_PASSWORD = "_password"  # a typed password rides along with its entry until save; never saved


class ImapAccountsEditor(QWidget):
    """Edit a list of ``[[imap]]`` tables: pick one, change it, add or remove accounts."""

    def __init__(
        self,
        entries: list[dict[str, Any]],
        runner: TaskRunner,
        keyring_problem: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("imapEditor")
        self.runner = runner
        self._entries = [dict(e) for e in entries]
        self._current = -1
        self.testing = False
        section = SECTIONS["imap"]
        self._defaults = section.defaults()

        self.account_box = QComboBox()
        self.account_box.setObjectName("imapAccount")
        self.add_button = QPushButton(self.tr("Add account"))
        self.add_button.setObjectName("imapAdd")
        self.add_button.clicked.connect(self.add_account)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setObjectName("imapRemove")
        self.remove_button.clicked.connect(self.remove_account)
        top = QHBoxLayout()
        top.addWidget(self.account_box, 1)
        top.addWidget(self.add_button)
        top.addWidget(self.remove_button)

        self.name_edit = QLineEdit()
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText(self.tr("e.g. imap.example.de"))
        self.port_box = QSpinBox()
        self.port_box.setRange(0, 65535)
        self.port_box.setSpecialValueText(self.tr("standard (993 or 143)"))
        self.tls_box = QComboBox()
        for value, title in (
            ("implicit", self.tr("TLS (port 993)")),
            ("starttls", self.tr("STARTTLS (port 143)")),
            ("none", self.tr("none (a server on this machine only)")),
        ):
            self.tls_box.addItem(title, value)
        self.user_edit = QLineEdit()
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("imapPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        if keyring_problem:
            self.password_edit.setEnabled(False)
            self.password_edit.setPlaceholderText(self.tr("no secure keyring on this system"))
        else:
            self.password_edit.setPlaceholderText(
                self.tr("unchanged (stored in the system keyring)")
            )
        self.secret_edit = QLineEdit()
        self.secret_edit.setPlaceholderText(self.tr("e.g. imap-office"))
        self.folders_edit = QLineEdit()
        self.folders_edit.setPlaceholderText(self.tr("INBOX, Sent"))
        self.verify_box = QCheckBox(self.tr("Check the server's certificate"))
        self.ca_edit = QLineEdit()
        self.ca_edit.setPlaceholderText(self.tr("optional: the server's certificate (PEM file)"))
        self.lookback_box = QSpinBox()
        self.lookback_box.setRange(0, 3650)
        self.lookback_box.setSuffix(self.tr(" days"))

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, title, widget in (
            ("name", self.tr("Name:"), self.name_edit),
            ("host", self.tr("Server:"), self.host_edit),
            ("port", self.tr("Port:"), self.port_box),
            ("tls", self.tr("Encryption:"), self.tls_box),
            ("user", self.tr("User:"), self.user_edit),
            ("", self.tr("Password:"), self.password_edit),
            ("secret", self.tr("Keyring entry:"), self.secret_edit),
            ("folders", self.tr("Folders:"), self.folders_edit),
            ("verify_certificate", "", self.verify_box),
            ("ca_file", self.tr("CA file:"), self.ca_edit),
            ("lookback_days", self.tr("Read back:"), self.lookback_box),
        ):
            if key:
                widget.setObjectName(f"imap_{key}")
                setting = section.setting(key)
                if setting is not None:
                    widget.setToolTip(setting.description)
            self.form.addRow(title, widget)

        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.setObjectName("imapTest")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setObjectName("imapTestResult")
        self.test_result.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)

        self.fields = QWidget()
        fields_layout = QVBoxLayout(self.fields)
        fields_layout.setContentsMargins(0, 0, 0, 0)
        fields_layout.addLayout(self.form)
        fields_layout.addLayout(test_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.fields)

        self.name_edit.textEdited.connect(self._rename)
        self.account_box.currentIndexChanged.connect(self._select)
        self._fill_box()

    # --- the list -----------------------------------------------------------------------------

    def _fill_box(self, select: int = 0) -> None:
        self.account_box.blockSignals(True)
        self.account_box.clear()
        for entry in self._entries:
            self.account_box.addItem(str(entry.get("name") or "mail"))
        self.account_box.blockSignals(False)
        self._current = -1
        if self._entries:
            self.account_box.setCurrentIndex(select)
            self._select(select)
        self.fields.setEnabled(bool(self._entries))
        self.remove_button.setEnabled(bool(self._entries))

    def _select(self, index: int) -> None:
        self._store()
        self._current = index
        if 0 <= index < len(self._entries):
            self._load(self._entries[index])

    def _rename(self, text: str) -> None:
        if self._current >= 0:
            self.account_box.setItemText(self._current, text or "mail")

    def add_account(self) -> None:
        self._store()
        names = {str(e.get("name")) for e in self._entries}
        name = "mail" if "mail" not in names else f"mail{len(self._entries) + 1}"
        self._entries.append(
            {"name": name, "host": "", "user": "", "secret": f"imap-{name}", "folders": ["INBOX"]}
        )
        self._fill_box(len(self._entries) - 1)
        self.host_edit.setFocus()

    def remove_account(self) -> None:
        if 0 <= self._current < len(self._entries):
            del self._entries[self._current]
            self._current = -1
            self._fill_box(0)

    # --- one account --------------------------------------------------------------------------

    def _value(self, entry: dict[str, Any], key: str) -> Any:
        return entry.get(key, self._defaults.get(key))

    def _load(self, entry: dict[str, Any]) -> None:
        self.name_edit.setText(str(self._value(entry, "name")))
        self.host_edit.setText(str(self._value(entry, "host")))
        self.port_box.setValue(int(self._value(entry, "port") or 0))
        self.tls_box.setCurrentIndex(max(0, self.tls_box.findData(self._value(entry, "tls"))))
        self.user_edit.setText(str(self._value(entry, "user")))
        self.password_edit.setText(str(entry.get(_PASSWORD, "")))
        self.secret_edit.setText(str(self._value(entry, "secret")))
        self.folders_edit.setText(", ".join(self._value(entry, "folders") or []))
        self.verify_box.setChecked(bool(self._value(entry, "verify_certificate")))
        self.ca_edit.setText(str(self._value(entry, "ca_file") or ""))
        self.lookback_box.setValue(int(self._value(entry, "lookback_days")))
        self.test_result.clear()

    def _form_values(self) -> dict[str, Any]:
        name = self.name_edit.text().strip() or "mail"
        return {
            "name": name,
            "host": self.host_edit.text().strip(),
            "port": self.port_box.value(),
            "tls": self.tls_box.currentData(),
            "user": self.user_edit.text().strip(),
            "secret": self.secret_edit.text().strip() or f"imap-{name}",
            "folders": [f.strip() for f in self.folders_edit.text().split(",") if f.strip()]
            or ["INBOX"],
            "verify_certificate": self.verify_box.isChecked(),
            "ca_file": self.ca_edit.text().strip(),
            "lookback_days": self.lookback_box.value(),
        }

    def _store(self) -> None:
        if 0 <= self._current < len(self._entries):
            entry = self._entries[self._current]
            entry.update(self._form_values())
            if self.password_edit.text():
                entry[_PASSWORD] = self.password_edit.text()

    # --- what the dialog reads --------------------------------------------------------------

    def entries(self) -> list[dict[str, Any]]:
        """The ``[[imap]]`` tables as edited (without passwords)."""
        self._store()
        return [
            {k: copy.deepcopy(v) for k, v in e.items() if k != _PASSWORD} for e in self._entries
        ]

    def passwords(self) -> list[tuple[str, str]]:
        """(keyring entry, password) for every account whose password was typed here."""
        self._store()
        return [(str(e["secret"]), str(e[_PASSWORD])) for e in self._entries if e.get(_PASSWORD)]

    # --- test ---------------------------------------------------------------------------------

    def test_connection(self) -> None:
        """Log in once in the background; the answer in words next to the button."""
        self._store()
        entry = dict(self._entries[self._current]) if self._current >= 0 else {}
        if not entry:
            return
        password = str(entry.pop(_PASSWORD, ""))
        self.testing = True
        self.test_button.setEnabled(False)
        self.test_result.setText(self.tr("Connecting…"))

        def work(_context: TaskContext) -> str:
            secret = password or secrets.get_secret(str(entry.get("secret", "")))
            return check_connection(entry, secret)

        def done(text: str) -> None:
            self.testing = False
            self.test_button.setEnabled(True)
            self.test_result.setText(text)

        def failed(exc: BaseException) -> None:
            self.testing = False
            self.test_button.setEnabled(True)
            self.test_result.setText(self.tr("Failed: {reason}").format(reason=str(exc)))

        self.runner.run(work, on_done=done, on_error=failed, name="imap-test")
