"""Digest answers: the published RFC examples, and how challenges are read and chosen."""

from __future__ import annotations

import re

import pytest

from desktop_crm.cti.sip.digest import (
    Challenge,
    DigestError,
    DigestSession,
    digest_response,
    parse_challenges,
    pick_challenge,
)

RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: str, expected: str) -> None:
    challenge = Challenge("http-auth@example.org", RFC7616_NONCE, algorithm, ("auth",))
    response = digest_response(
        challenge,
        username="Mufasa",
        password="Circle of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce=RFC7616_CNONCE,
        nc=1,
    )
    assert response == expected


def test_rfc2617_example() -> None:
    challenge = Challenge(
        "testrealm@host.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "MD5", ("auth",)
    )
    response = digest_response(
        challenge,
        username="Mufasa",
        password="Circle Of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="0a4f113b",
        nc=1,
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_challenges_are_read_with_quotes_commas_and_other_schemes() -> None:
    found = parse_challenges(
        [
            'Basic realm="x"',
            'Digest realm="office, 1st floor", nonce="a\\"b", qop="auth,auth-int", '
            'algorithm=sha-256, stale=TRUE, opaque="o"',
            'Digest realm="office", nonce="n2"',
            "Digest nonce=missing-realm",
            'Digest realm="broken, nonce="',
        ]
    )
    assert found == [
        Challenge("office, 1st floor", 'a"b', "SHA-256", ("auth", "auth-int"), "o", True),
        Challenge("office", "n2"),
    ]


def test_the_strongest_algorithm_wins_and_unknown_ones_are_explained() -> None:
    md5 = Challenge("r", "n1", "MD5", ("auth",))
    sha = Challenge("r", "n2", "SHA-256", ("auth",))
    assert pick_challenge([md5, sha]) is sha
    with pytest.raises(DigestError, match="SHA-512-256"):
        pick_challenge([Challenge("r", "n", "SHA-512-256", ("auth",))])
    with pytest.raises(DigestError):
        pick_challenge([Challenge("r", "n", "MD5", ("auth-int",))])


def test_authorization_header_counts_nonce_uses_and_never_holds_the_password() -> None:
    session = DigestSession("100")
    challenge = Challenge("crm", "abc", "SHA-256", ("auth",), opaque="op", proxy=True)
    name, first = session.authorization(
        challenge, password="s3cret", method="REGISTER", uri="sip:127.0.0.1"
    )
    _, second = session.authorization(
        challenge, password="s3cret", method="REGISTER", uri="sip:127.0.0.1"
    )
    assert name == "Proxy-Authorization"
    assert "nc=00000001" in first and "nc=00000002" in second
    assert "s3cret" not in first
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', first.removeprefix("Digest ")))
    assert fields["username"] == "100" and fields["algorithm"] == "SHA-256"
    assert fields["opaque"] == "op" and fields["qop"] == "auth"
    expected = digest_response(
        challenge,
        username="100",
        password="s3cret",
        method="REGISTER",
        uri="sip:127.0.0.1",
        cnonce=fields["cnonce"],
        nc=1,
    )
    assert fields["response"] == expected


def test_without_qop_the_rfc2069_form_has_no_cnonce() -> None:
    _, value = DigestSession("100").authorization(
        Challenge("crm", "abc"), password="pw", method="REGISTER", uri="sip:x"
    )
    assert "cnonce" not in value and "qop" not in value and "algorithm=MD5" in value
