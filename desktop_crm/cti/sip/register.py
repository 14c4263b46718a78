"""Registration at a registrar: the REGISTER client, driven by the agent's loop.

:class:`Registration` follows the rules every renewed request follows (digest authentication,
refresh before expiry, retransmission, back-off with jitter: :mod:`.refresh`) and adds what is
particular to registering:

* the granted time is read from our own Contact in the 200 (a registrar may shorten it, and
  the 200 lists every phone of the extension), else from Expires;
* **NAT keep-alive**: while registered, a double CRLF (RFC 5626 §4.4.1) every ``keepalive``
  seconds on the registration's flow, so a NAT or firewall keeps the binding that calls come in
  on;
* its state is the source's state: registering, registered, failed with a
  :class:`SourceProblem` and a sentence (``the registrar 127.0.0.1:5070 refused the password
  of 100``, ``no answer from … within 32 s``), which the tray icon and ``listen --json`` show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from desktop_crm.cti.events import SourceProblem, SourceState
from desktop_crm.cti.sip.message import SipResponse
from desktop_crm.cti.sip.refresh import (
    RefreshingClient,
    RegistrarAccount,
    refresh_delay,
    retry_delay,
)

__all__ = ["RegistrarAccount", "Registration", "refresh_delay", "retry_delay"]

log = logging.getLogger(__name__)

Reporter = Callable[[SourceState, SourceProblem, str, "float | None"], None]


class Registration(RefreshingClient):
    """The REGISTER client of one account (see the module text)."""

    method = "REGISTER"
    what = "registration"

    def __init__(self, account: RegistrarAccount, *, report: Reporter, **kwargs: Any) -> None:
        super().__init__(account, **kwargs)
        self._report = report
        self.state = SourceState.STARTING
        self._keepalive_at: float | None = None

    @property
    def registrations(self) -> int:
        return self.successes

    def unregister(self) -> bytes | None:
        """The REGISTER with Expires: 0 that removes our binding (sent on stop), if registered."""
        self.state = SourceState.STOPPED
        self._keepalive_at = None
        return self.stop()

    # --- the hooks ----------------------------------------------------------------------

    def _starting(self) -> None:
        self._keepalive_at = None
        self.state = SourceState.REGISTERING
        self._report(
            SourceState.REGISTERING,
            SourceProblem.NONE,
            f"registering {self.account.aor} at {self.account.registrar}",
            None,
        )

    def _idle(self, now: float) -> None:
        if self._keepalive_at is not None and now >= self._keepalive_at:
            self._send(b"\r\n\r\n")
            self._keepalive_at = now + self.account.keepalive

    def _granted(self, response: SipResponse) -> int:
        ours = _uri_key(self.contact)
        for contact in response.contacts:
            if _uri_key(contact.uri.raw) == ours:
                value = contact.param("expires")
                if value is not None and value.isdigit():
                    return int(value)
        return super()._granted(response)

    def _succeeded(self, response: SipResponse, granted: int) -> None:
        keepalive = self.account.keepalive
        self._keepalive_at = self._clock() + keepalive if keepalive > 0 else None
        if self.state is not SourceState.REGISTERED:
            self.state = SourceState.REGISTERED
            self._report(
                SourceState.REGISTERED,
                SourceProblem.NONE,
                f"registered {self.account.aor} at {self.account.registrar} for {granted} s",
                None,
            )

    def _failed(self, problem: SourceProblem, detail: str, delay: float) -> None:
        self._keepalive_at = None
        self.state = SourceState.FAILED
        log.warning("%s; next attempt in %.0f s", detail, delay)
        self._report(SourceState.FAILED, problem, detail, delay)


def _uri_key(uri: str) -> str:
    """``sip:100@127.0.0.1:5062;transport=tcp`` → ``100@127.0.0.1:5062`` (lower case)."""
    text = uri.strip().strip("<>").lower()
    text = text.split(":", 1)[1] if text.startswith(("sip:", "sips:")) else text
    return text.split(";", 1)[0]
