"""Our SIP user agent in register mode against a real Kamailio registrar.

It registers as an extension with digest auth (MD5 and SHA-256, UDP and TCP), refreshes,
removes its binding on stop, explains a wrong password and an unreachable registrar, and the
calls Kamailio forks to it land in the history: a caller that hangs up is one missed call, a
call the desk phone (a second registration of the same extension, played by sipp) answers is
one call answered elsewhere, a withheld caller matches nobody.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from desktop_crm.cti.calllog import CallLogger, ResolvedCall
from desktop_crm.cti.events import CallEvent, CallState, SourceProblem, SourceState, SourceStatus
from desktop_crm.cti.listener import Listener
from desktop_crm.cti.sip.agent import SipListener
from desktop_crm.cti.sip.register import RegistrarAccount
from desktop_crm.data import history, records
from desktop_crm.data.db import Database
from desktop_crm.data.records import ContactInput, PhoneInput
from desktop_crm.identify.rules import DialingRules
from tests.helpers.kamailio import KamailioServer, free_port
from tests.helpers.sipp import SippPeers

pytestmark = pytest.mark.integration


class Seen:
    """Everything a source delivered: call events and status changes, in order."""

    def __init__(self) -> None:
        self.calls: list[CallEvent] = []
        self.statuses: list[SourceStatus] = []
        self._lock = threading.Lock()

    def __call__(self, item: CallEvent | SourceStatus) -> None:
        with self._lock:
            (self.statuses if isinstance(item, SourceStatus) else self.calls).append(item)  # type: ignore[arg-type]

    def wait(self, ready: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if ready():
                    return True
            time.sleep(0.02)
        return False

    def states(self) -> list[SourceState]:
        return [s.state for s in self.statuses]


def agent_for(
    server: KamailioServer,
    user: str,
    *,
    transport: str = "udp",
    password: str | None = None,
    expires: int = 60,
    register_timeout: float | None = None,
    port: int | None = None,
    keepalive: float = 25.0,
    host: str = "127.0.0.1",
) -> SipListener:
    account = RegistrarAccount(
        registrar_host=server.host,
        registrar_port=port or server.port,
        user=user,
        transport=transport,
        expires=expires,
        keepalive=keepalive,
    )
    secret = server.user(user).password if password is None else password
    return SipListener(
        name="sip:office",
        mode="register",
        host=host,
        port=free_port(),  # not 0: an ephemeral port might be one handed to a sipp peer
        transports=(transport,),
        account=account,
        password=lambda: secret,
        register_timeout=register_timeout,
    )


@contextmanager
def running(agent: SipListener, seen: Seen) -> Iterator[SipListener]:
    agent.start(seen)
    try:
        yield agent
    finally:
        agent.stop()


def registered(seen: Seen) -> bool:
    return SourceState.REGISTERED in seen.states()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_registers_with_md5_and_rings_along_with_a_call(
    kamailio: KamailioServer, sipp: SippPeers, transport: str
) -> None:
    seen = Seen()
    with running(agent_for(kamailio, "110", transport=transport), seen) as agent:
        assert seen.wait(lambda: registered(seen)), seen.statuses
        status = seen.statuses[-1]
        assert status.problem is SourceProblem.NONE
        assert f"sip:110@{kamailio.hostport}" in status.detail
        caller = sipp.uac("110", "uac_cancel", caller="+498920204470", caller_name="Jürgen Groß")
        call = caller.wait(timeout=20)
        assert call.ok, call.describe()
        assert seen.wait(lambda: len(seen.calls) >= 2)
        assert agent.registration is not None and agent.registration.registrations == 1
        assert agent.registration.algorithm == "MD5"
    ringing, missed = seen.calls[:2]
    assert (ringing.state, missed.state) == (CallState.RINGING, CallState.MISSED)
    assert ringing.remote_number == "+498920204470"
    assert ringing.remote_display_name == "Jürgen Groß"
    assert ringing.line == "110"
    assert seen.statuses[0].state is SourceState.REGISTERING
    assert seen.states()[-1] is SourceState.STOPPED


def test_bound_to_every_interface_it_registers_the_address_that_reaches_the_registrar(
    kamailio: KamailioServer, sipp: SippPeers
) -> None:
    seen = Seen()
    with running(agent_for(kamailio, "107", host="0.0.0.0"), seen) as agent:
        assert seen.wait(lambda: registered(seen)), seen.statuses
        assert agent.registration is not None
        assert agent.registration.contact == f"sip:107@127.0.0.1:{agent.port}"
        assert sipp.uac("107", "uac_cancel", name="to-any").wait(timeout=20).ok
        assert seen.wait(lambda: len(seen.calls) >= 2)


def test_registers_with_a_sha256_digest(kamailio_sha256: KamailioServer) -> None:
    seen = Seen()
    with running(agent_for(kamailio_sha256, "111"), seen) as agent:
        assert seen.wait(lambda: registered(seen)), seen.statuses
        assert agent.registration is not None
        assert agent.registration.algorithm == "SHA-256"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_wrong_password_is_refused_with_a_reason(
    kamailio: KamailioServer, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Seen()
    wrong = "not-the-password-4711"
    with running(agent_for(kamailio, "112", transport=transport, password=wrong), seen):
        assert seen.wait(lambda: SourceState.FAILED in seen.states()), seen.statuses
    failed = next(s for s in seen.statuses if s.state is SourceState.FAILED)
    assert failed.problem is SourceProblem.WRONG_PASSWORD
    assert "refused the password of 112" in failed.detail
    assert failed.retry_in is not None and failed.retry_in >= 60
    assert SourceState.REGISTERED not in seen.states()
    everything = caplog.text + repr(seen.statuses)
    assert wrong not in everything and kamailio.user("112").password not in everything


def test_refreshes_before_the_registration_expires(kamailio: KamailioServer) -> None:
    seen = Seen()
    with running(agent_for(kamailio, "113", expires=2), seen) as agent:
        assert seen.wait(lambda: registered(seen)), seen.statuses
        registration = agent.registration
        assert registration is not None
        assert seen.wait(lambda: registration.registrations >= 3, timeout=8)
        assert registration.granted == 2
    assert seen.states().count(SourceState.REGISTERED) == 1  # refreshes are not news


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_keepalives_keep_the_flow_without_upsetting_the_registrar(
    kamailio: KamailioServer, sipp: SippPeers, transport: str
) -> None:
    seen = Seen()
    with running(agent_for(kamailio, "109", transport=transport, keepalive=0.3), seen) as agent:
        assert seen.wait(lambda: registered(seen)), seen.statuses
        time.sleep(1.5)  # several CRLF pings (and, over TCP, Kamailio's CRLF pongs)
        caller = sipp.uac("109", "uac_cancel", name="after-pings")
        assert caller.wait(timeout=20).ok
        assert seen.wait(lambda: len(seen.calls) >= 2)
        assert agent.malformed == 0
    assert seen.states() == [
        SourceState.REGISTERING,
        SourceState.REGISTERED,
        SourceState.STOPPED,
    ]


def test_stopping_removes_the_binding(kamailio: KamailioServer, sipp: SippPeers) -> None:
    seen = Seen()
    with running(agent_for(kamailio, "114"), seen):
        assert seen.wait(lambda: registered(seen))
    time.sleep(0.3)
    caller = sipp.uac("114", "uac_cancel", name="after-stop")
    result = caller.wait(timeout=20)
    assert not result.ok
    assert "480" in result.describe() or result.received("480")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_an_unreachable_registrar_is_named_and_retried_with_growing_pauses(
    kamailio: KamailioServer, transport: str
) -> None:
    seen = Seen()
    nobody = free_port()
    agent = agent_for(kamailio, "115", transport=transport, port=nobody, register_timeout=1.0)
    with running(agent, seen):
        assert seen.wait(
            lambda: [s.state for s in seen.statuses].count(SourceState.FAILED) >= 2, timeout=12
        ), seen.statuses
    first, second = [s for s in seen.statuses if s.state is SourceState.FAILED][:2]
    for failed in (first, second):
        assert failed.problem is SourceProblem.UNREACHABLE
        assert f"127.0.0.1:{nobody}" in failed.detail
    assert first.retry_in is not None and second.retry_in is not None
    assert 1.0 <= first.retry_in <= 2.0
    assert 2.0 <= second.retry_in <= 4.0


# --- the calls land in the history --------------------------------------------------------


@contextmanager
def listening(
    crm: Database, server: KamailioServer, user: str, results: list[ResolvedCall]
) -> Iterator[Seen]:
    seen = Seen()
    lock = threading.Lock()

    def keep(result: ResolvedCall) -> None:
        with lock:
            results.append(result)

    listener = Listener(
        [agent_for(server, user)],
        CallLogger(crm, DialingRules(country="DE")),
        keep,
        on_status=seen,
    )
    listener.start()
    try:
        assert seen.wait(lambda: registered(seen)), seen.statuses
        yield seen
    finally:
        listener.stop()


def _contact(crm: Database, number: str) -> int:
    with crm.session() as s:
        return records.create_contact(
            s, ContactInput(first_name="Jürgen", last_name="Groß", phones=[PhoneInput(number)])
        ).id


def _calls(crm: Database, contact_id: int | None) -> list[tuple[str, str]]:
    with crm.session() as s:
        return [(e.outcome, e.source) for e in history.history(s, contact_id=contact_id)]


def test_a_caller_who_hangs_up_is_one_missed_call_in_the_history(
    crm: Database, kamailio: KamailioServer, sipp: SippPeers
) -> None:
    juergen = _contact(crm, "089 2020447-25")
    results: list[ResolvedCall] = []
    with listening(crm, kamailio, "116", results):
        caller = sipp.uac(
            "116", "uac_cancel", caller="+49892020447-25", caller_name="Jürgen Groß", pause_ms=500
        )
        assert caller.wait(timeout=20).ok
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _calls(crm, juergen) != [("missed", "sip:office")]:
            time.sleep(0.05)
    assert _calls(crm, juergen) == [("missed", "sip:office")]
    ringing = results[0]
    assert ringing.event.state is CallState.RINGING
    assert ringing.best is not None and ringing.best.contact_id == juergen
    assert ringing.event.remote_display_name == "Jürgen Groß"


def test_a_call_the_desk_phone_answers_is_answered_elsewhere_not_missed(
    crm: Database, kamailio: KamailioServer, sipp: SippPeers
) -> None:
    juergen = _contact(crm, "+49 89 2020447-25")
    desk_phone = sipp.uas("uas_answer", name="desk-phone", answer_ms=700)
    results: list[ResolvedCall] = []
    with listening(crm, kamailio, "117", results):
        phone_registered = sipp.register(kamailio.user("117"), desk_phone.uri_hostport).wait(15)
        assert phone_registered.ok, phone_registered.describe()
        caller = sipp.uac("117", "uac_call", caller="+49892020447-25", caller_name="Jürgen Groß")
        assert caller.wait(timeout=20).ok
        assert desk_phone.wait(timeout=10).ok
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _calls(crm, juergen) == [("ringing", "sip:office")]:
            time.sleep(0.05)
        sipp.register(kamailio.user("117"), desk_phone.uri_hostport, expires=0).wait(15)
    assert _calls(crm, juergen) == [("answered_elsewhere", "sip:office")]
    final = [r for r in results if r.event.is_final]
    assert [r.event.state for r in final] == [CallState.ANSWERED_ELSEWHERE]
    assert "Call completed elsewhere" in final[0].event.reason


def test_a_withheld_caller_shows_as_withheld_and_matches_nobody(
    crm: Database, kamailio: KamailioServer, sipp: SippPeers
) -> None:
    _contact(crm, "+49 30 123456")
    results: list[ResolvedCall] = []
    with listening(crm, kamailio, "118", results):
        caller = sipp.uac("118", "uac_withheld", caller="+4930123456", pause_ms=300)
        call = caller.wait(timeout=20)
        assert call.ok, call.describe()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(results) < 2:
            time.sleep(0.05)
    ringing = results[0]
    assert ringing.event.withheld
    assert ringing.event.remote_number is None
    assert ringing.matches == ()
    assert ringing.to_json()["number"] is None and ringing.to_json()["withheld"] is True


# --- from the settings file, with the password in the keyring -----------------------------


def _sources_from(text: str, tmp_path: Path) -> list[SipListener]:
    from desktop_crm.cti.listener import sip_sources_from_settings
    from desktop_crm.settings import load_settings

    config = tmp_path / "crm.toml"
    config.write_text(text, encoding="utf-8")
    sources = sip_sources_from_settings(load_settings(config).entries("sip"))
    assert all(isinstance(s, SipListener) for s in sources)
    return sources  # type: ignore[return-value]


def _register_config(server: KamailioServer, user: str, secret: str, transport: str) -> str:
    return (
        f'[[sip]]\nname = "office"\nmode = "register"\nbind = "127.0.0.1:{free_port()}"\n'
        f'transport = "{transport}"\nregistrar = "{server.hostport}"\nuser = "{user}"\n'
        f'secret = "{secret}"\nexpires = 60\n'
    )


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_settings_file_and_the_keyring_are_all_it_takes(
    kamailio: KamailioServer, tmp_path: Path, transport: str
) -> None:
    from desktop_crm.secrets import set_secret

    set_secret("sip-119", kamailio.user("119").password)
    [agent] = _sources_from(_register_config(kamailio, "119", "sip-119", transport), tmp_path)
    assert agent.name == "sip:office" and agent.mode == "register"
    seen = Seen()
    with running(agent, seen):
        assert seen.wait(lambda: registered(seen)), seen.statuses
    config_text = (tmp_path / "crm.toml").read_text()
    assert kamailio.user("119").password not in config_text


def test_a_password_missing_from_the_keyring_says_how_to_store_it(
    kamailio: KamailioServer, tmp_path: Path
) -> None:
    [agent] = _sources_from(_register_config(kamailio, "119", "sip-nowhere", "udp"), tmp_path)
    seen = Seen()
    with running(agent, seen):
        assert seen.wait(lambda: SourceState.FAILED in seen.states()), seen.statuses
    failed = next(s for s in seen.statuses if s.state is SourceState.FAILED)
    assert failed.problem is SourceProblem.NO_SECRET
    assert "desktop-crm secret set sip-nowhere" in failed.detail


# --- the real command ---------------------------------------------------------------------


def test_desktop_crm_listen_registers_and_logs_a_call_end_to_end(
    kamailio: KamailioServer, sipp: SippPeers, tmp_path: Path
) -> None:
    """``secret set`` and ``listen --json`` as processes, a sipp caller through Kamailio."""
    import json
    import os
    import signal
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    db = Database(url)
    db.upgrade()
    juergen = _contact(db, "089 2020447-25")
    config = tmp_path / "crm.toml"
    config.write_text(_register_config(kamailio, "108", "sip-108", "tcp"), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.helpers.process_keyring.ProcessKeyring",
        "DESKTOP_CRM_TEST_KEYRING": str(tmp_path / "keyring.json"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    exe = str(Path(sys.executable).parent / "desktop-crm")
    common = ["--database", url, "--config", str(config)]
    password = kamailio.user("108").password
    stored = subprocess.run(
        [exe, *common, "secret", "set", "sip-108"],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert stored.returncode == 0, stored.stderr
    proc = subprocess.Popen(
        [exe, *common, "listen", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first, second = (json.loads(proc.stdout.readline()) for _ in range(2))
        assert (first["event"], second["event"]) == ("source.registering", "source.registered")
        caller = sipp.uac("108", "uac_cancel", caller="+49892020447-25", caller_name="Jürgen Groß")
        assert caller.wait(timeout=20).ok
        ringing, missed = (json.loads(proc.stdout.readline()) for _ in range(2))
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, errors = proc.communicate(timeout=10)
    assert proc.returncode == 0, errors
    assert (ringing["event"], missed["event"]) == ("call.ringing", "call.missed")
    assert ringing["display_name"] == "Jürgen Groß"
    assert [m["contact_id"] for m in ringing["matches"]] == [juergen]
    assert [json.loads(line)["event"] for line in rest.splitlines()] == ["source.stopped"]
    with db.session() as s:
        [entry] = history.history(s, contact_id=juergen)
        assert (entry.outcome, entry.source) == ("missed", "sip:office")
    for output in (stored.stdout, stored.stderr, rest, errors, config.read_text()):
        assert password not in output
    db.dispose()
