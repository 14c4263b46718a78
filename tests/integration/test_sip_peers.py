"""The SIP peers of the integration tests work: Kamailio registers with digest auth and forks
calls to every phone of an extension, sipp callers and desk phones talk through it.

Our own user agent is not used here; these tests prove the fixtures other tests build on.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket

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


def test_register_over_tcp(kamailio: KamailioServer, sipsak: str) -> None:
    user = kamailio.user("103")
    result = register(sipsak, kamailio, user, "127.0.0.1:45997", expires=5, transport="tcp")
    assert result.returncode == 0, result.output
    assert "Via: SIP/2.0/TCP 127.0.0.1:" in result.output
    assert result.statuses[-1] == 200


def test_register_with_a_wrong_password_is_refused(kamailio: KamailioServer, sipsak: str) -> None:
    result = register(
        sipsak, kamailio, "101", "127.0.0.1:45999", password="not-the-password", expires=5
    )
    assert result.returncode != 0
    assert result.statuses[0] == 401
    assert result.statuses[-1] in (401, 403)
    assert 200 not in result.statuses


def _register_raw(server: KamailioServer, user: str, password: str) -> tuple[str, str]:
    """REGISTER by hand, answering the challenge with its algorithm: (challenge, final reply)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3)
        port = sock.getsockname()[1]
        call_id = secrets.token_hex(8)

        def send(cseq: int, extra: str = "") -> str:
            sock.sendto(
                (
                    f"REGISTER {server.uri()} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bK{secrets.token_hex(6)}\r\n"
                    f"From: <sip:{user}@{server.hostport}>;tag=raw\r\n"
                    f"To: <sip:{user}@{server.hostport}>\r\n"
                    f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                    f"Contact: <sip:{user}@127.0.0.1:{port}>\r\nExpires: 5\r\n{extra}"
                    "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                ).encode(),
                server.address,
            )
            return sock.recv(65535).decode()

        challenge = send(1)
        fields = dict(re.findall(r'(\w+)="?([^",\r\n]+)"?', challenge.split("Digest", 1)[1]))
        algorithm = fields.get("algorithm", "MD5")
        digest = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm]

        def h(text: str) -> str:
            return digest(text.encode()).hexdigest()

        uri, cnonce, nc = server.uri(), secrets.token_hex(4), "00000001"
        ha1 = h(f"{user}:{fields['realm']}:{password}")
        ha2 = h(f"REGISTER:{uri}")
        response = h(f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        header = (
            f'Authorization: Digest username="{user}", realm="{fields["realm"]}", '
            f'nonce="{fields["nonce"]}", uri="{uri}", response="{response}", '
            f'algorithm={algorithm}, qop=auth, nc={nc}, cnonce="{cnonce}"\r\n'
        )
        return challenge, send(2, header)


def test_the_registrar_can_challenge_for_sha256_digests(
    kamailio_sha256: KamailioServer,
) -> None:
    user = kamailio_sha256.user("100")
    challenge, reply = _register_raw(kamailio_sha256, user.name, user.password)
    assert "algorithm=SHA-256" in challenge
    assert 'qop="auth"' in challenge
    assert reply.startswith("SIP/2.0 200 "), reply

    _, refused = _register_raw(kamailio_sha256, user.name, "wrong")
    assert refused.startswith("SIP/2.0 403 "), refused


def test_the_md5_registrar_accepts_a_hand_made_digest(kamailio: KamailioServer) -> None:
    user = kamailio.user("101")
    challenge, reply = _register_raw(kamailio, user.name, user.password)
    assert "algorithm=MD5" in challenge
    assert reply.startswith("SIP/2.0 200 "), reply


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
