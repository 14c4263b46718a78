"""The extension's dialog state (RFC 4235): who answered, and for how long they talked.

A ringing branch of ours only learns that the call was *answered elsewhere* (CANCEL with
``Reason: SIP;cause=200``). When the PBX offers the ``dialog`` event package, the agent also
subscribes to its own extension (:class:`DialogSubscription`, the same rules as REGISTER:
digest authentication, refresh, back-off) and reads every NOTIFY's
``application/dialog-info+xml`` document (:func:`parse_dialog_info`): a dialog of the
extension's desk phone going *confirmed* means the agent answered, *terminated* afterwards means
the call ended, which gives the call's duration. The dialog's ``call-id`` is the Call-ID of the
INVITE every forked branch received, so it names a call we rang along with; dialogs the
extension *initiated* are the agent's outgoing calls, which are logged too.

The document is parsed with the standard library's expat-based ElementTree after refusing any
DTD (no entity expansion at all), within the message size cap of the SIP parser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from desktop_crm.cti.events import SourceProblem
from desktop_crm.cti.sip.message import SipRequest, SipResponse
from desktop_crm.cti.sip.refresh import RefreshingClient, RegistrarAccount
from desktop_crm.cti.sip.uri import parse_name_addr

__all__ = ["Dialog", "DialogInfo", "DialogSubscription", "parse_dialog_info"]

log = logging.getLogger(__name__)

NS = "{urn:ietf:params:xml:ns:dialog-info}"
CONTENT_TYPE = "application/dialog-info+xml"
NOT_OFFERED = frozenset({404, 405, 420, 489, 501})  # the PBX has no dialog event package
NOT_OFFERED_RETRY = 3600.0
MAX_DIALOGS = 200


class DialogInfoError(ValueError):
    """A dialog-info document we cannot read; the message says why."""


@dataclass(frozen=True)
class Dialog:
    dialog_id: str
    call_id: str | None
    state: str  # lower case: trying, proceeding, early, confirmed, terminated
    direction: str  # "recipient" (a call to the extension), "initiator" (one it made), or ""
    remote_identity: str | None = None  # URI as written, e.g. sip:+4930123456@pbx
    remote_display: str = ""
    duration: int | None = None


@dataclass(frozen=True)
class DialogInfo:
    version: int
    full: bool  # state="full": the document lists every dialog; "partial": only changes
    entity: str
    dialogs: tuple[Dialog, ...]


def parse_dialog_info(body: bytes) -> DialogInfo:
    """Read a dialog-info document; :class:`DialogInfoError` when it is not one."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise DialogInfoError("a document type declaration is not accepted")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise DialogInfoError(f"not well-formed XML: {exc}") from None
    if root.tag != f"{NS}dialog-info":
        raise DialogInfoError(f"not a dialog-info document: <{root.tag}>")
    version_text = root.get("version", "")
    if not version_text.isdigit():
        raise DialogInfoError(f"missing or bad version: {version_text[:20]!r}")
    dialogs: list[Dialog] = []
    for element in root.findall(f"{NS}dialog")[:MAX_DIALOGS]:
        state = (element.findtext(f"{NS}state") or "").strip().lower()
        if not state:
            continue
        remote = element.find(f"{NS}remote")
        identity = remote.find(f"{NS}identity") if remote is not None else None
        duration_text = (element.findtext(f"{NS}duration") or "").strip()
        dialogs.append(
            Dialog(
                dialog_id=element.get("id", ""),
                call_id=element.get("call-id") or None,
                state=state,
                direction=(element.get("direction") or "").lower(),
                remote_identity=(identity.text or "").strip() or None
                if identity is not None
                else None,
                remote_display=(identity.get("display") or "") if identity is not None else "",
                duration=int(duration_text) if duration_text.isdigit() else None,
            )
        )
    return DialogInfo(
        version=int(version_text),
        full=root.get("state", "full").lower() == "full",
        entity=root.get("entity", ""),
        dialogs=tuple(dialogs),
    )


def remote_number(dialog: Dialog) -> str | None:
    """The other party's number (the user part of its identity), as the network wrote it."""
    if not dialog.remote_identity:
        return None
    try:
        uri = parse_name_addr(dialog.remote_identity).uri
    except ValueError:
        return None
    user = uri.user
    if not user or user.lower() in ("anonymous", "unknown", "restricted"):
        return None
    return user


class DialogSubscription(RefreshingClient):
    """SUBSCRIBE to ``Event: dialog`` of our own extension; NOTIFYs go to ``on_info``."""

    method = "SUBSCRIBE"
    what = "dialog subscription"

    def __init__(
        self,
        account: RegistrarAccount,
        *,
        on_info: Callable[[DialogInfo], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(account, **kwargs)
        self._on_info = on_info
        self.remote_tag: str | None = None
        self.remote_target: str | None = None
        self.route: tuple[str, ...] = ()
        self.offered = True  # False once the PBX said it has no dialog state
        self.notifies = 0
        self._version = -1

    @property
    def peer(self) -> str:
        return f"the PBX's dialog state for {self.account.aor}"

    def on_notify(self, request: SipRequest) -> tuple[int, str]:
        """The status and reason to answer a NOTIFY of this subscription with."""
        if self.stopped:
            return 481, "Subscription Does Not Exist"
        sender_tag = request.from_addr.tag if request.from_addr is not None else None
        if self.remote_tag is not None and sender_tag and sender_tag != self.remote_tag:
            return 481, "Subscription Does Not Exist"
        if self.remote_tag is None and sender_tag:
            self.remote_tag = sender_tag  # a NOTIFY may overtake the 200 (RFC 6665 §4.1.2.4)
        self.notifies += 1
        state = (request.headers.get("Subscription-State") or "").strip().lower()
        if request.body:
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type.lower() != CONTENT_TYPE:
                return 415, "Unsupported Media Type"
            try:
                info = parse_dialog_info(request.body)
            except DialogInfoError as exc:
                log.warning("%s: unreadable NOTIFY body: %s", self.account.aor, exc)
                return 400, "Bad Request (dialog-info)"
            if info.version > self._version or info.version == 0:
                self._version = info.version
                self._on_info(info)
        if state.startswith("terminated"):
            self._dialog_ended()
        return 200, "OK"

    # --- the hooks ----------------------------------------------------------------------

    def _request_uri(self) -> str:
        return self.remote_target or self.account.aor

    def _to_header(self) -> str:
        tag = f";tag={self.remote_tag}" if self.remote_tag else ""
        return f"To: <{self.account.aor}>{tag}"

    def _request_lines(self, expires: int) -> list[str]:
        lines = [f"Route: {route}" for route in self.route]
        return [
            *lines,
            f"Contact: <{self.contact}>",
            "Event: dialog",
            f"Accept: {CONTENT_TYPE}",
            f"Expires: {expires}",
        ]

    def _starting(self) -> None:
        self._new_dialog()

    def _succeeded(self, response: SipResponse, granted: int) -> None:
        if not self.active:
            tag = response.to_addr.tag if response.to_addr is not None else None
            self.remote_tag = self.remote_tag or tag
            if response.contacts:
                self.remote_target = response.contacts[0].uri.raw
            self.route = tuple(reversed(response.header_values("Record-Route")))
            log.info("%s: subscribed for %d s", self.peer, granted)

    def _refused(self, response: SipResponse) -> None:
        if response.status in NOT_OFFERED:
            self.offered = False
            self._new_dialog()
            self.active = False
            self._next_attempt = self._clock() + NOT_OFFERED_RETRY
            log.info(
                "%s: not offered (%d %s); answered calls are logged without their duration",
                self.peer,
                response.status,
                response.reason,
            )
            return
        if response.status == 481:  # our dialog is gone at the PBX: start a new one
            self._new_dialog()
            self._next_attempt = self._clock()
            return
        super()._refused(response)

    def _failed(self, problem: SourceProblem, detail: str, delay: float) -> None:
        self._new_dialog()
        log.warning("%s; next attempt in %.0f s", detail, delay)

    # --- helpers ------------------------------------------------------------------------

    def _new_dialog(self) -> None:
        self.remote_tag = None
        self.remote_target = None
        self.route = ()
        self._version = -1

    def _dialog_ended(self) -> None:
        """The PBX ended the subscription: subscribe afresh (a new dialog) in a moment."""
        if self.stopped:
            return
        self.active = False
        self._new_dialog()
        self._refresh_at = None
        self._next_attempt = self._clock() + 1.0
