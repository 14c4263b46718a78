"""Registration at a registrar: the client side of REGISTER, driven by the agent's loop.

:class:`Registration` is a state machine without sockets of its own. The agent
(:class:`~desktop_crm.cti.sip.agent.SipListener` in register mode) hands it every response whose
CSeq says REGISTER and calls :meth:`Registration.on_timer` a few times a second; it answers by
calling ``send`` with the bytes to put on the registrar's flow. That keeps one thread, one
selector and one place that reads the network, and it lets the timing rules below be tested
with a clock of the test's choosing.

What it does, in the order a user meets it:

* **Digest authentication** (MD5 and SHA-256, qop=auth; :mod:`.digest`). The password is asked
  for at each attempt (``password()``, the keyring), so fixing it in the keyring takes effect at
  the next retry without a restart. It is never stored here nor logged.
* **Refresh before expiry**: at half the granted time, or a minute before it ends when that is
  later (a 3,600 s registration is refreshed after 3,540 s, a 60 s one after 30 s). The granted
  time is read from our own Contact in the 200 (a registrar may shorten it), else from Expires.
  ``423 Interval Too Brief`` is answered with its Min-Expires at once.
* **NAT keep-alive**: while registered, a double CRLF (RFC 5626 §4.4.1) every ``keepalive``
  seconds on the registration's flow, so a NAT or firewall keeps the binding that calls come in
  on.
* **Back-off with jitter** when the registrar is down or refuses: 2, 4, 8 … seconds up to five
  minutes, each drawn from its upper half at random so a hundred clients that lost the same
  server do not come back in step. A refused password waits at least a minute (registrars
  lock out accounts that retry too fast).
* **Clear reasons**: every failure is reported with a :class:`SourceProblem` and a sentence
  (``wrong password for 100 at 127.0.0.1:5070``, ``no answer from … within 32 s``), which the tray
  icon and ``listen --json`` show.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from desktop_crm.cti.events import SourceProblem, SourceState
from desktop_crm.cti.sip.digest import (
    Challenge,
    DigestError,
    DigestSession,
    parse_challenges,
    pick_challenge,
)
from desktop_crm.cti.sip.headers import SipParseError
from desktop_crm.cti.sip.message import SipResponse

__all__ = ["RegistrarAccount", "Registration", "refresh_delay"]

log = logging.getLogger(__name__)

T1 = 0.5
T2 = 4.0
TIMER_F = 64 * T1  # 32 s: a REGISTER without any answer is given up (RFC 3261 §17.1.2.2)
RETRY_BASE = 2.0
RETRY_MAX = 300.0
WRONG_PASSWORD_RETRY = 60.0
MAX_AUTH_ROUNDS = 3  # challenges answered in one attempt before we call it refused
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY"
USER_AGENT = "desktop-crm"

Reporter = Callable[[SourceState, SourceProblem, str, "float | None"], None]


@dataclass(frozen=True)
class RegistrarAccount:
    """Where and as whom we register: one ``[[sip]]`` table in register mode."""

    registrar_host: str
    registrar_port: int
    user: str
    auth_user: str = ""  # empty: the user
    domain: str = ""  # empty: registrar host:port
    transport: str = "udp"
    expires: int = 600
    keepalive: float = 25.0  # seconds between CRLF keep-alives while registered; 0: none

    @property
    def registrar(self) -> str:
        return f"{self.registrar_host}:{self.registrar_port}"

    @property
    def realm_domain(self) -> str:
        if self.domain:
            return self.domain
        host = self.registrar_host
        host = f"[{host}]" if ":" in host else host
        return f"{host}:{self.registrar_port}"

    @property
    def aor(self) -> str:
        return f"sip:{self.user}@{self.realm_domain}"


def refresh_delay(granted: int) -> float:
    """Seconds after a successful REGISTER until the refresh: half, or a minute before expiry."""
    return float(max(granted / 2, granted - 60))


def retry_delay(failures: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential back-off (2, 4, 8 … ≤ 300 s) drawn from its upper half ("equal jitter")."""
    ceiling = min(RETRY_MAX, RETRY_BASE * 2.0 ** max(failures - 1, 0))
    return float(ceiling / 2 + rng() * ceiling / 2)


class Registration:
    """The REGISTER client of one account (see the module text)."""

    def __init__(
        self,
        account: RegistrarAccount,
        *,
        contact: str,
        via_sent_by: str,
        password: Callable[[], str],
        send: Callable[[bytes], None],
        report: Reporter,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        timer_f: float = TIMER_F,
    ) -> None:
        self.account = account
        self.contact = contact  # our Contact URI, e.g. sip:100@127.0.0.1:5062;transport=tcp
        self.via_sent_by = via_sent_by
        self._password = password
        self._send = send
        self._report = report
        self._clock = clock
        self._rng = rng
        self.timer_f = timer_f
        self.call_id = f"{secrets.token_hex(12)}@desktop-crm"
        self.from_tag = secrets.token_hex(6)
        self.cseq = 0
        self.state = SourceState.STARTING
        self.granted = 0  # seconds the registrar granted last time
        self.registrations = 0  # successful REGISTERs (first and refreshes), for tests
        self.failures = 0
        self.expires = account.expires
        self._digest = DigestSession(account.auth_user or account.user)
        self._challenge: Challenge | None = None
        self._auth_rounds = 0
        self._branch: str | None = None
        self._pending: bytes = b""
        self._sent_at = 0.0
        self._retransmit_at: float | None = None
        self._retransmit_interval = T1
        self._next_attempt: float | None = None
        self._refresh_at: float | None = None
        self._keepalive_at: float | None = None

    # --- driven by the agent ----------------------------------------------------------------

    def start(self) -> None:
        self._attempt()

    def on_timer(self) -> None:
        if self.state is SourceState.STOPPED:
            return
        now = self._clock()
        if self._branch is not None:  # a REGISTER is under way
            if now - self._sent_at >= self.timer_f:
                self._fail(
                    SourceProblem.UNREACHABLE,
                    f"no answer from the registrar {self.account.registrar} "
                    f"({self.account.transport.upper()}) within {self.timer_f:.0f} s",
                )
            elif self._retransmit_at is not None and now >= self._retransmit_at:
                self._send(self._pending)
                self._retransmit_interval = min(self._retransmit_interval * 2, T2)
                self._retransmit_at = now + self._retransmit_interval
            return
        due = [t for t in (self._next_attempt, self._refresh_at) if t is not None]
        if due and now >= min(due):
            self._attempt()
        elif self._keepalive_at is not None and now >= self._keepalive_at:
            self._send(b"\r\n\r\n")
            self._keepalive_at = now + self.account.keepalive

    def owns(self, response: SipResponse) -> bool:
        """Whether ``response`` answers our REGISTER under way (its branch and Call-ID)."""
        if self._branch is None or response.call_id != self.call_id or not response.vias:
            return False
        return response.vias[0].branch == self._branch

    def on_response(self, response: SipResponse) -> None:
        if self.state is SourceState.STOPPED or not self.owns(response):
            return
        status = response.status
        if status < 200:
            self._retransmit_at = None if self.account.transport == "tcp" else self._retransmit_at
            return
        self._branch = None
        self._retransmit_at = None
        if 200 <= status < 300:
            self._registered(response)
        elif status in (401, 407):
            self._challenged(response)
        elif status == 423:
            self._too_brief(response)
        elif status == 403 and self._auth_rounds:
            self._wrong_password(f"{status} {response.reason}")
        elif status == 403:
            self._fail(
                SourceProblem.REJECTED,
                f"the registrar {self.account.registrar} forbids user {self.account.user} "
                f"({status} {response.reason})",
            )
        elif status == 404:
            self._fail(
                SourceProblem.REJECTED,
                f"the registrar {self.account.registrar} does not know user "
                f"{self.account.user} (404 {response.reason})",
            )
        elif status in (408, 480, 503, 504):
            self._fail(
                SourceProblem.UNREACHABLE,
                f"the registrar {self.account.registrar} is not available right now "
                f"({status} {response.reason})",
                retry_after=_retry_after(response),
            )
        else:
            self._fail(
                SourceProblem.REJECTED,
                f"the registrar {self.account.registrar} refused the registration "
                f"({status} {response.reason})",
                retry_after=_retry_after(response),
            )

    def transport_failed(self, reason: str) -> None:
        """The flow to the registrar broke (TCP refused or closed, host unknown)."""
        if self.state is SourceState.STOPPED:
            return
        self._branch = None
        self._retransmit_at = None
        self._fail(
            SourceProblem.UNREACHABLE,
            f"cannot reach the registrar {self.account.registrar} "
            f"({self.account.transport.upper()}): {reason}",
        )

    def unregister(self) -> bytes | None:
        """The REGISTER with Expires: 0 that removes our binding (sent on stop), if registered."""
        was = self.state
        self.state = SourceState.STOPPED
        self._next_attempt = self._refresh_at = self._keepalive_at = None
        if was is not SourceState.REGISTERED:
            return None
        try:
            password = self._password()
        except Exception:
            return None
        return self._request(0, password)

    @property
    def retry_at(self) -> float | None:
        return self._next_attempt

    # --- the steps ----------------------------------------------------------------------

    def _attempt(self) -> None:
        self._next_attempt = None
        self._refresh_at = None
        self._keepalive_at = None
        self._auth_rounds = 0
        if self.state is not SourceState.REGISTERED:
            self.state = SourceState.REGISTERING
            self._report(
                SourceState.REGISTERING,
                SourceProblem.NONE,
                f"registering {self.account.aor} at {self.account.registrar}",
                None,
            )
        self._transmit(None)

    def _transmit(self, password: str | None) -> None:
        if password is None and self._challenge is not None:
            password = self._password_or_fail()
            if password is None:
                return
        data = self._request(self.expires, password)
        self._pending = data
        self._sent_at = self._clock()
        self._retransmit_interval = T1
        self._retransmit_at = (
            None if self.account.transport == "tcp" else self._sent_at + self._retransmit_interval
        )
        self._send(data)

    def _password_or_fail(self) -> str | None:
        try:
            return self._password()
        except Exception as exc:  # SecretError: no keyring, or no such entry
            self._fail(SourceProblem.NO_SECRET, str(exc), at_least=WRONG_PASSWORD_RETRY)
            return None

    def _request(self, expires: int, password: str | None) -> bytes:
        self.cseq += 1
        self._branch = f"z9hG4bK{secrets.token_hex(10)}"
        account = self.account
        uri = f"sip:{account.realm_domain}"
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/{account.transport.upper()} {self.via_sent_by}"
            f";branch={self._branch};rport",
            "Max-Forwards: 70",
            f"From: <{account.aor}>;tag={self.from_tag}",
            f"To: <{account.aor}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <{self.contact}>",
            f"Expires: {expires}",
            f"Allow: {ALLOW}",
            f"User-Agent: {USER_AGENT}",
        ]
        if self._challenge is not None and password is not None:
            name, value = self._digest.authorization(
                self._challenge, password=password, method="REGISTER", uri=uri
            )
            lines.append(f"{name}: {value}")
        lines.append("Content-Length: 0")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def _challenged(self, response: SipResponse) -> None:
        proxy = response.status == 407
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        try:
            challenges = parse_challenges(response.headers.get_all(name), proxy=proxy)
            challenge = pick_challenge(challenges)
        except (DigestError, SipParseError) as exc:
            self._fail(SourceProblem.REJECTED, str(exc))
            return
        # challenged again right after we answered, and not because the nonce went stale:
        # the registrar did not like the answer (same nonce, or a fresh one without stale=true)
        refused = self._auth_rounds > 0 and not challenge.stale
        if refused or self._auth_rounds >= MAX_AUTH_ROUNDS:
            self._wrong_password(f"{response.status} {response.reason}")
            return
        password = self._password_or_fail()
        if password is None:
            return
        self._challenge = challenge
        self._auth_rounds += 1
        self._transmit(password)

    def _too_brief(self, response: SipResponse) -> None:
        value = response.headers.get("Min-Expires")
        minimum = int(value.strip()) if value and value.strip().isdigit() else 0
        if minimum <= self.expires or minimum > 86_400:
            self._fail(
                SourceProblem.REJECTED,
                f"the registrar {self.account.registrar} wants a longer registration "
                f"than it names (423, Min-Expires {value!r})",
            )
            return
        self.expires = minimum
        self._transmit(None)

    def _registered(self, response: SipResponse) -> None:
        granted = self._granted(response)
        if granted <= 0:
            self._fail(
                SourceProblem.REJECTED,
                f"the registrar {self.account.registrar} accepted the registration but "
                "kept no binding for us",
            )
            return
        now = self._clock()
        self.granted = granted
        self.registrations += 1
        self.failures = 0
        self._refresh_at = now + refresh_delay(granted)
        self._keepalive_at = now + self.account.keepalive if self.account.keepalive > 0 else None
        if self.state is not SourceState.REGISTERED:
            self.state = SourceState.REGISTERED
            self._report(
                SourceState.REGISTERED,
                SourceProblem.NONE,
                f"registered {self.account.aor} at {self.account.registrar} for {granted} s",
                None,
            )

    def _granted(self, response: SipResponse) -> int:
        ours = _uri_key(self.contact)
        for contact in response.contacts:
            if _uri_key(contact.uri.raw) == ours:
                value = contact.param("expires")
                if value is not None and value.isdigit():
                    return int(value)
        value = response.headers.get("Expires")
        if value is not None and value.strip().isdigit():
            return int(value.strip())
        return self.expires

    def _wrong_password(self, status: str) -> None:
        self._fail(
            SourceProblem.WRONG_PASSWORD,
            f"the registrar {self.account.registrar} refused the password of "
            f"{self.account.auth_user or self.account.user} ({status})",
            at_least=WRONG_PASSWORD_RETRY,
        )

    def _fail(
        self,
        problem: SourceProblem,
        detail: str,
        *,
        retry_after: float | None = None,
        at_least: float = 0.0,
    ) -> None:
        self._branch = None
        self._retransmit_at = None
        self._refresh_at = None
        self._keepalive_at = None
        self.failures += 1
        delay = retry_delay(self.failures, self._rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        delay = max(delay, at_least)
        self._next_attempt = self._clock() + delay
        self.state = SourceState.FAILED
        self._challenge = None if problem is SourceProblem.WRONG_PASSWORD else self._challenge
        log.warning("%s; next attempt in %.0f s", detail, delay)
        self._report(SourceState.FAILED, problem, detail, delay)


def _uri_key(uri: str) -> str:
    """``sip:100@127.0.0.1:5062;transport=tcp`` → ``100@127.0.0.1:5062`` (lower case)."""
    text = uri.strip().strip("<>").lower()
    text = text.split(":", 1)[1] if text.startswith(("sip:", "sips:")) else text
    return text.split(";", 1)[0]


def _retry_after(response: SipResponse) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    digits = value.strip().split(";", 1)[0].split("(", 1)[0].strip()
    return float(min(int(digits), 3600)) if digits.isdigit() else None
