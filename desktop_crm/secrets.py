"""Passwords live in the system keyring and nowhere else.

Settings only name a keyring entry. Where the machine has no usable keyring backend we say so in
plain words instead of silently falling back to a plaintext file (``keyrings.alt``'s plaintext
backend and keyring's ``fail``/``null`` backends are refused).
"""

from __future__ import annotations

import contextlib

import keyring
import keyring.errors

SERVICE = "desktop_crm"

_INSECURE = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt.file")


class SecretError(Exception):
    """A password cannot be stored or read; the message says why and what to do."""


def backend_problem() -> str | None:
    """Why the current keyring backend cannot hold secrets, or None when it can."""
    backend = keyring.get_keyring()
    module = type(backend).__module__
    name = f"{module}.{type(backend).__name__}"
    if any(module.startswith(bad) for bad in _INSECURE) or "PlaintextKeyring" in name:
        return (
            f"No secure keyring is available on this system (backend: {name}). "
            "Install and unlock a keyring service (GNOME Keyring, KWallet, Windows Credential "
            "Manager, macOS Keychain), or select one with PYTHON_KEYRING_BACKEND."
        )
    return None


def set_secret(name: str, value: str) -> None:
    if not name:
        raise SecretError("A secret needs a name, e.g. 'database' or 'sip-100'.")
    if problem := backend_problem():
        raise SecretError(problem)
    try:
        keyring.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"The keyring refused to store {name!r}: {exc}") from exc


def get_secret(name: str) -> str:
    """The password stored under ``name``; a clear error when there is none."""
    if problem := backend_problem():
        raise SecretError(problem)
    try:
        value = keyring.get_password(SERVICE, name)
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"The keyring could not be read for {name!r}: {exc}") from exc
    if value is None:
        raise SecretError(
            f"No password is stored under {name!r}; store one with: desktop-crm secret set {name}"
        )
    return value


def delete_secret(name: str) -> None:
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE, name)
