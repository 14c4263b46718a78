"""A request that must be renewed before it expires: what REGISTER and SUBSCRIBE share.

:class:`RefreshingClient` is a state machine without sockets of its own. The agent hands it
every response to its transaction and calls :meth:`~RefreshingClient.on_timer` a few times a
second; it answers by calling ``send`` with the bytes to put on the flow to the PBX. That keeps
one thread, one selector and one place that reads the network, and lets the timing rules be
tested with a clock of the test's choosing.

The rules both requests follow:

* **Digest authentication** (MD5 and SHA-256, qop=auth; :mod:`.digest`). The password is asked
  for at each attempt (``password()``, the keyring), so one fixed in the keyring takes effect at
  the next retry without a restart. It is never stored here nor logged. A second challenge right
  after our answer (same nonce, or a new one without ``stale=true``), or a 403 after it, means
  the password is wrong.
* **Refresh before expiry**: at half the granted time, or a minute before it ends when that is
  later (3,600 s is refreshed after 3,540 s, 60 s after 30 s). ``423 Interval Too Brief`` is
  answered with its Min-Expires at once.
* **UDP retransmission** (RFC 3261 Timer E: 0.5 s doubling to 4 s) and a transaction timeout
  (Timer F, 32 s) that counts as "unreachable".
* **Back-off with jitter** after a failure: 2, 4, 8 … seconds up to five minutes, each drawn
  from its upper half at random, so a hundred clients that lost the same server do not come
  back in step; a Retry-After is honoured; a refused password waits at least a minute
  (registrars lock out accounts that retry too fast).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from desktop_crm.cti.events import SourceProblem
from desktop_crm.cti.sip.digest import (
    Challenge,
    DigestError,
    DigestSession,
    parse_challenges,
    pick_challenge,
)
from desktop_crm.cti.sip.headers import SipParseError
from desktop_crm.cti.sip.message import SipResponse

__all__ = ["RefreshingClient", "RegistrarAccount", "refresh_delay", "retry_delay"]

log = logging.getLogger(__name__)

T1 = 0.5
T2 = 4.0
TIMER_F = 64 * T1  # 32 s: a request without any answer is given up (RFC 3261 §17.1.2.2)
RETRY_BASE = 2.0
RETRY_MAX = 300.0
WRONG_PASSWORD_RETRY = 60.0
MAX_AUTH_ROUNDS = 3  # challenges answered in one attempt before we call it refused
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY"
USER_AGENT = "desktop-crm"


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
    dialog_state: bool = True  # subscribe to the extension's dialog state (RFC 4235)

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
    """Seconds after a success until the refresh: half the time, or a minute before expiry."""
    return float(max(granted / 2, granted - 60))


def retry_delay(failures: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential back-off (2, 4, 8 … ≤ 300 s) drawn from its upper half ("equal jitter")."""
    ceiling = min(RETRY_MAX, RETRY_BASE * 2.0 ** max(failures - 1, 0))
    return float(ceiling / 2 + rng() * ceiling / 2)


class RefreshingClient:
    """The transaction, authentication and timing rules of a renewed request.

    Subclasses name the ``method``, write the request's own headers (:meth:`_request_lines`)
    and react to success (:meth:`_succeeded`) and failure (:meth:`_failed`).
    """

    method = "REGISTER"
    what = "registration"  # in messages: "… refused the registration"

    def __init__(
        self,
        account: RegistrarAccount,
        *,
        contact: str,
        via_sent_by: str,
        password: Callable[[], str],
        send: Callable[[bytes], None],
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        timer_f: float = TIMER_F,
        expires: int | None = None,
    ) -> None:
        self.account = account
        self.contact = contact  # our Contact URI, e.g. sip:100@127.0.0.1:5062;transport=tcp
        self.via_sent_by = via_sent_by
        self._password = password
        self._send = send
        self._clock = clock
        self._rng = rng
        self.timer_f = timer_f
        self.call_id = f"{secrets.token_hex(12)}@desktop-crm"
        self.from_tag = secrets.token_hex(6)
        self.cseq = 0
        self.active = False  # registered / subscribed
        self.stopped = False
        self.granted = 0  # seconds the server granted last time
        self.successes = 0  # successful requests (first and refreshes), for tests
        self.failures = 0
        self.expires = account.expires if expires is None else expires
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

    # --- driven by the agent ------------------------------------------------------------

    def start(self) -> None:
        self._attempt()

    def on_timer(self) -> None:
        if self.stopped:
            return
        now = self._clock()
        if self._branch is not None:  # a request is under way
            if now - self._sent_at >= self.timer_f:
                self._fail(
                    SourceProblem.UNREACHABLE,
                    f"no answer from {self.peer} ({self.account.transport.upper()}) "
                    f"within {self.timer_f:.0f} s",
                )
            elif self._retransmit_at is not None and now >= self._retransmit_at:
                self._send(self._pending)
                self._retransmit_interval = min(self._retransmit_interval * 2, T2)
                self._retransmit_at = now + self._retransmit_interval
            return
        due = [t for t in (self._next_attempt, self._refresh_at) if t is not None]
        if due and now >= min(due):
            self._attempt()
        else:
            self._idle(now)

    def owns(self, response: SipResponse) -> bool:
        """Whether ``response`` answers our request under way (its branch and Call-ID)."""
        if self._branch is None or response.call_id != self.call_id or not response.vias:
            return False
        return response.vias[0].branch == self._branch

    def on_response(self, response: SipResponse) -> None:
        if self.stopped or not self.owns(response):
            return
        status = response.status
        if status < 200:
            if self.account.transport == "tcp":
                self._retransmit_at = None
            return
        self._branch = None
        self._retransmit_at = None
        if 200 <= status < 300:
            self._success(response)
        elif status in (401, 407):
            self._challenged(response)
        elif status == 423:
            self._too_brief(response)
        elif status == 403 and self._auth_rounds:
            self._wrong_password(f"{status} {response.reason}")
        else:
            self._refused(response)

    def transport_failed(self, reason: str) -> None:
        """The flow to the server broke (TCP refused or closed, host unknown)."""
        if self.stopped:
            return
        self._fail(
            SourceProblem.UNREACHABLE,
            f"cannot reach {self.peer} ({self.account.transport.upper()}): {reason}",
        )

    def stop(self) -> bytes | None:
        """Stop for good; the request that ends what we hold (Expires: 0), if we hold it."""
        was_active = self.active
        self.stopped = True
        self.active = False
        self._next_attempt = self._refresh_at = None
        if not was_active:
            return None
        try:
            password = self._password() if self._challenge is not None else None
        except Exception:
            return None
        return self._request(0, password)

    @property
    def peer(self) -> str:
        return f"the registrar {self.account.registrar}"

    @property
    def algorithm(self) -> str | None:
        """The digest algorithm of the challenge we last answered (None: not challenged)."""
        return self._challenge.algorithm if self._challenge is not None else None

    # --- for subclasses -----------------------------------------------------------------

    def _request_uri(self) -> str:
        return f"sip:{self.account.realm_domain}"

    def _request_lines(self, expires: int) -> list[str]:
        """The headers after Via, Max-Forwards, From, To, Call-ID and CSeq."""
        return [f"Contact: <{self.contact}>", f"Expires: {expires}"]

    def _to_header(self) -> str:
        return f"To: <{self.account.aor}>"

    def _starting(self) -> None:
        """An attempt (not a refresh) begins."""

    def _succeeded(self, response: SipResponse, granted: int) -> None:
        """A 2xx granted ``granted`` seconds (after the timers are set)."""

    def _failed(self, problem: SourceProblem, detail: str, delay: float) -> None:
        """An attempt failed; the next one is in ``delay`` seconds."""

    def _idle(self, now: float) -> None:
        """Nothing due: a subclass may send keep-alives."""

    def _granted(self, response: SipResponse) -> int:
        value = response.headers.get("Expires")
        if value is not None and value.strip().isdigit():
            return int(value.strip())
        return self.expires

    def _refused(self, response: SipResponse) -> None:
        status, reason = response.status, response.reason
        if status == 403:
            detail = f"{self.peer} forbids user {self.account.user} ({status} {reason})"
        elif status == 404:
            detail = f"{self.peer} does not know user {self.account.user} ({status} {reason})"
        elif status in (408, 480, 503, 504):
            self._fail(
                SourceProblem.UNREACHABLE,
                f"{self.peer} is not available right now ({status} {reason})",
                retry_after=_retry_after(response),
            )
            return
        else:
            detail = f"{self.peer} refused the {self.what} ({status} {reason})"
        self._fail(SourceProblem.REJECTED, detail, retry_after=_retry_after(response))

    # --- the steps ----------------------------------------------------------------------

    def _attempt(self) -> None:
        self._next_attempt = None
        self._refresh_at = None
        self._auth_rounds = 0
        if not self.active:
            self._starting()
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
        uri = self._request_uri()
        lines = [
            f"{self.method} {uri} SIP/2.0",
            f"Via: SIP/2.0/{account.transport.upper()} {self.via_sent_by}"
            f";branch={self._branch};rport",
            "Max-Forwards: 70",
            f"From: <{account.aor}>;tag={self.from_tag}",
            self._to_header(),
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} {self.method}",
            *self._request_lines(expires),
            f"Allow: {ALLOW}",
            f"User-Agent: {USER_AGENT}",
        ]
        if self._challenge is not None and password is not None:
            name, value = self._digest.authorization(
                self._challenge, password=password, method=self.method, uri=uri
            )
            lines.append(f"{name}: {value}")
        lines.append("Content-Length: 0")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def _challenged(self, response: SipResponse) -> None:
        proxy = response.status == 407
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        try:
            challenge = pick_challenge(
                parse_challenges(response.headers.get_all(name), proxy=proxy)
            )
        except (DigestError, SipParseError) as exc:
            self._fail(SourceProblem.REJECTED, str(exc))
            return
        # challenged again right after we answered, and not because the nonce went stale:
        # the server did not like the answer (same nonce, or a fresh one without stale=true)
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
                f"{self.peer} wants a longer {self.what} than it names "
                f"(423, Min-Expires {value!r})",
            )
            return
        self.expires = minimum
        self._transmit(None)

    def _success(self, response: SipResponse) -> None:
        granted = self._granted(response)
        if granted <= 0:
            self._fail(
                SourceProblem.REJECTED,
                f"{self.peer} accepted the {self.what} but granted no time for it",
            )
            return
        self.granted = granted
        self.successes += 1
        self.failures = 0
        self._refresh_at = self._clock() + refresh_delay(granted)
        self._succeeded(response, granted)
        self.active = True

    def _wrong_password(self, status: str) -> None:
        self._fail(
            SourceProblem.WRONG_PASSWORD,
            f"{self.peer} refused the password of "
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
        self.active = False
        self.failures += 1
        delay = retry_delay(self.failures, self._rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        delay = max(delay, at_least)
        self._next_attempt = self._clock() + delay
        if problem is SourceProblem.WRONG_PASSWORD:
            self._challenge = None
        self._failed(problem, detail, delay)


def _retry_after(response: SipResponse) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    digits = value.strip().split(";", 1)[0].split("(", 1)[0].strip()
    return float(min(int(digits), 3600)) if digits.isdigit() else None
