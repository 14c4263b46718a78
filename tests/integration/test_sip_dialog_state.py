"""Our agent follows its extension's dialog state (RFC 4235) at a PBX that offers it.

Kamailio with the dialog event package (``kamailio_dialog``): our agent registers as extension
1xx next to the agent's desk phone (sipp), subscribes to the extension's dialog state, and the
history learns what a ringing branch alone cannot: that the desk phone answered (the agent
took the call) and how long the call lasted; calls the desk phone makes are logged as outgoing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from desktop_crm.cti.calllog import CallLogger, ResolvedCall
from desktop_crm.cti.events import CallDirection, CallState, SourceState
from desktop_crm.cti.listener import Listener
from desktop_crm.data import history
from desktop_crm.data.db import Database
from desktop_crm.data.models import Interaction
from desktop_crm.identify.rules import DialingRules
from tests.helpers.kamailio import KamailioServer
from tests.helpers.sipp import SippPeers
from tests.integration.test_sip_register import Seen, _contact, agent_for, registered

pytestmark = pytest.mark.integration


@contextmanager
def watching(
    crm: Database,
    server: KamailioServer,
    user: str,
    results: list[ResolvedCall],
    transport: str = "udp",
) -> Iterator[Listener]:
    seen = Seen()
    agent = agent_for(server, user, transport=transport)
    listener = Listener(
        [agent], CallLogger(crm, DialingRules(country="DE")), results.append, on_status=seen
    )
    listener.start()
    try:
        assert seen.wait(lambda: registered(seen)), seen.statuses
        subscription = agent.subscription
        assert subscription is not None
        assert seen.wait(lambda: subscription.active and subscription.notifies >= 1), (
            "no dialog subscription"
        )
        yield listener
    finally:
        listener.stop()
    assert SourceState.FAILED not in seen.states()


def _rows(crm: Database, contact_id: int | None = None) -> list[Interaction]:
    with crm.session() as s:
        if contact_id is not None:
            return history.history(s, contact_id=contact_id)
        from sqlalchemy import select

        return list(s.scalars(select(Interaction)))


def _wait(condition: object, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)


@pytest.mark.parametrize(("transport", "extension"), [("udp", "104"), ("tcp", "103")])
def test_the_desk_phone_answering_is_logged_as_answered_with_its_duration(
    crm: Database,
    kamailio_dialog: KamailioServer,
    sipp_dialog: SippPeers,
    transport: str,
    extension: str,
) -> None:
    juergen = _contact(crm, "+49 89 2020447-25")
    results: list[ResolvedCall] = []
    desk_phone = sipp_dialog.uas("uas_answer", name="desk-phone", answer_ms=600)
    with watching(crm, kamailio_dialog, extension, results, transport):
        phone = sipp_dialog.register(kamailio_dialog.user(extension), desk_phone.uri_hostport)
        assert phone.wait(15).ok
        caller = sipp_dialog.uac(
            extension,
            "uac_call",
            caller="+49892020447-25",
            caller_name="Jürgen Groß",
            pause_ms=2500,
        )
        call = caller.wait(timeout=25)
        assert call.ok, call.describe()
        assert desk_phone.wait(timeout=10).ok
        _wait(
            lambda: (
                [e.outcome for e in _rows(crm, juergen)] == ["answered"]
                and _rows(crm, juergen)[0].duration_seconds is not None
            )
        )
        sipp_dialog.register(kamailio_dialog.user(extension), desk_phone.uri_hostport, expires=0)
    [entry] = _rows(crm, juergen)
    assert (entry.outcome, entry.source) == ("answered", "sip:office")
    assert entry.duration_seconds is not None and 2 <= entry.duration_seconds <= 4
    states = [r.event.state for r in results]
    assert states[0] is CallState.RINGING
    assert states[-2:] == [CallState.ANSWERED, CallState.ENDED]


def test_a_caller_who_gives_up_stays_a_missed_call(
    crm: Database, kamailio_dialog: KamailioServer, sipp_dialog: SippPeers
) -> None:
    juergen = _contact(crm, "+49 89 2020447-25")
    results: list[ResolvedCall] = []
    with watching(crm, kamailio_dialog, "105", results):
        caller = sipp_dialog.uac("105", "uac_cancel", caller="+49892020447-25", pause_ms=800)
        assert caller.wait(timeout=20).ok
        _wait(lambda: [e.outcome for e in _rows(crm, juergen)] == ["missed"])
        time.sleep(0.5)  # the dialog state's "terminated" must not change it
    [entry] = _rows(crm, juergen)
    assert (entry.outcome, entry.duration_seconds) == ("missed", None)


def test_a_call_the_desk_phone_makes_is_logged_as_outgoing(
    crm: Database, kamailio_dialog: KamailioServer, sipp_dialog: SippPeers
) -> None:
    results: list[ResolvedCall] = []
    callee = sipp_dialog.uas("uas_answer", name="callee", answer_ms=300)
    with watching(crm, kamailio_dialog, "106", results):
        assert sipp_dialog.register(kamailio_dialog.user("107"), callee.uri_hostport).wait(15).ok
        caller = sipp_dialog.uac("107", "uac_call", caller="106", pause_ms=1500)
        assert caller.wait(timeout=20).ok
        _wait(lambda: any(e.duration_seconds is not None for e in _rows(crm)))
        sipp_dialog.register(kamailio_dialog.user("107"), callee.uri_hostport, expires=0)
    [entry] = _rows(crm)
    assert (entry.direction.value, entry.outcome) == ("outbound", "answered")
    assert entry.duration_seconds is not None and 1 <= entry.duration_seconds <= 3
    assert {r.event.direction for r in results} == {CallDirection.OUTBOUND}
    assert results[0].event.remote_number is not None
    assert results[0].event.remote_number.startswith("107")
