"""The SIP peers of the integration tests work: Kamailio registers with digest auth and forks
calls to every phone of an extension, sipp callers and desk phones talk through it.

Our own user agent is not used here; these tests prove the fixtures other tests build on.
"""

from __future__ import annotations

import pytest

from tests.helpers.kamailio import KamailioServer
from tests.helpers.sipp import SippPeers, register

pytestmark = pytest.mark.integration


def test_register_with_the_right_password_is_accepted(
    kamailio: KamailioServer, sipsak: str
) -> None:
    result = register(sipsak, kamailio, kamailio.user("101"), "127.0.0.1:45999", expires=5)
    assert result.returncode == 0, result.output
    assert result.statuses[0] == 401  # challenged first
    assert result.statuses[-1] == 200
    assert kamailio.user("101").password not in result.output


def test_register_with_a_wrong_password_is_refused(kamailio: KamailioServer, sipsak: str) -> None:
    result = register(
        sipsak, kamailio, "101", "127.0.0.1:45999", password="not-the-password", expires=5
    )
    assert result.returncode != 0
    assert result.statuses[0] == 401
    assert result.statuses[-1] in (401, 403)
    assert 200 not in result.statuses


def test_sipp_registers_with_digest_auth(kamailio: KamailioServer, sipp: SippPeers) -> None:
    user = kamailio.user("101")
    accepted = sipp.register(user, "127.0.0.1:45998", expires=5).wait(timeout=15)
    refused = sipp.register(user, "127.0.0.1:45998", password="wrong", name="wrong").wait(
        timeout=15
    )

    assert accepted.ok, accepted.describe()
    assert accepted.received("200")
    assert not refused.ok
    assert refused.received("403")
    assert not refused.received("200")


def test_a_registered_phone_is_called_and_answers(
    kamailio: KamailioServer, sipsak: str, sipp: SippPeers
) -> None:
    phone = sipp.uas("uas_answer", answer_ms=200)
    assert register(sipsak, kamailio, kamailio.user("100"), phone.uri_hostport).returncode == 0
    caller = sipp.uac("100", "uac_call", caller="+4930123456", caller_name="Jürgen Müller")

    called = caller.wait(timeout=20)
    answered = phone.wait(timeout=10)
    register(sipsak, kamailio, kamailio.user("100"), phone.uri_hostport, expires=0)

    assert called.ok, called.describe()
    assert answered.ok, answered.describe()
    invite = answered.received("INVITE")[0]
    assert 'From: "Jürgen Müller" <sip:+4930123456@' in invite
    assert "P-Asserted-Identity:" in invite


def test_a_caller_that_hangs_up_while_it_rings_cancels_the_phone(
    kamailio: KamailioServer, sipsak: str, sipp: SippPeers
) -> None:
    phone = sipp.uas("uas_ring_cancel", name="ringing")
    assert register(sipsak, kamailio, kamailio.user("102"), phone.uri_hostport).returncode == 0
    caller = sipp.uac("102", "uac_cancel", pause_ms=300)

    called = caller.wait(timeout=20)
    rang = phone.wait(timeout=10)
    register(sipsak, kamailio, kamailio.user("102"), phone.uri_hostport, expires=0)

    assert called.ok, called.describe()
    assert rang.ok, rang.describe()
    assert rang.received("CANCEL")


def test_two_phones_of_an_extension_ring_and_the_loser_is_cancelled(
    kamailio: KamailioServer, sipsak: str, sipp: SippPeers
) -> None:
    winner = sipp.uas("uas_answer", name="winner", answer_ms=500)
    loser = sipp.uas("uas_ring_cancel", name="loser")
    user = kamailio.user("200")
    assert register(sipsak, kamailio, user, winner.uri_hostport).returncode == 0
    assert register(sipsak, kamailio, user, loser.uri_hostport).returncode == 0
    caller = sipp.uac("200", "uac_call")

    called = caller.wait(timeout=20)
    answered = winner.wait(timeout=10)
    cancelled = loser.wait(timeout=10)
    for phone in (winner, loser):
        register(sipsak, kamailio, user, phone.uri_hostport, expires=0)

    assert called.ok, called.describe()
    assert answered.ok, answered.describe()
    assert cancelled.ok, cancelled.describe()
    assert cancelled.received("INVITE")
    cancel = cancelled.received("CANCEL")[0]
    assert 'Reason: SIP;cause=200;text="Call completed elsewhere"' in cancel
