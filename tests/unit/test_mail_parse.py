"""Reading mail: the author, names, recipients, ids, dates, robots and text, one trap per test.

The traps of DESIGN.md ("Known traps"): Python's ``email`` package reads
``From: alice@example.com <bob@example.com>`` as alice, finds no From in obsolete ``From  :``
syntax, and mis-spaces names split over several encoded-words; raw 8-bit headers need a charset.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from desktop_crm.mail.headers import decode_bytes, decode_words, header_text, split_headers
from desktop_crm.mail.message import (
    MessageError,
    addresses,
    attachments_from_structure,
    html_to_text,
    message_id_of,
    parse_headers,
    parse_message,
    snippet_from_part,
    text_section,
)
from tests.helpers import integration

ANNA = "anna.schaefer@mueller-anlagenbau.de"


def mail(headers: str | bytes, body: bytes = b"Hallo\r\n") -> bytes:
    head = headers.encode("utf-8") if isinstance(headers, str) else headers
    return head.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + b"\r\n" + body


# --- encoded-words and charsets ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("=?UTF-8?B?Rm9vLCBCYXI=?=", "Foo, Bar"),
        ("=?utf-8?q?J=C3=B6rg_M=C3=BCller?=", "Jörg Müller"),
        # split over several words: white space between words is dropped ...
        ("=?UTF-8?Q?J=C3=B6rg?= =?UTF-8?Q?_M=C3=BCller?=", "Jörg Müller"),
        ("=?UTF-8?Q?J=C3=B6rg?=\r\n =?UTF-8?Q?_M=C3=BCller?=", "Jörg Müller"),
        # ... and a character split between two words comes out whole
        ("=?UTF-8?Q?M=C3?= =?UTF-8?Q?=BCller?=", "Müller"),
        ("=?UTF-8?B?TcM=?= =?UTF-8?B?vGxsZXI=?=", "Müller"),
        # white space between a word and plain text stays
        ("=?UTF-8?Q?J=C3=B6rg?= Müller", "Jörg Müller"),
        ("Herr =?UTF-8?Q?J=C3=B6rg?=", "Herr Jörg"),
        ("=?ISO-8859-1?Q?Gr=FC=DFe?=", "Grüße"),
        ("=?iso-8859-1?q?Preis_=80_100?=", "Preis € 100"),  # Windows-1252 under a Latin-1 label
        ("=?windows-1252?Q?=84Zitat=93?=", "„Zitat“"),
        ("=?UTF-8*de?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # RFC 2231 language suffix
        ("=?x-unknown?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # unknown charset: read as UTF-8
        ("=?UTF-8?B?not base64!?=", "=?UTF-8?B?not base64!?="),  # stays as written
        ("=?utf-8?b?SGFsbG8?=", "Hallo"),  # missing padding
        ("=?ISO-8859-1?Q?a?= =?UTF-8?Q?=C3=BC?=", "aü"),  # two charsets in a row
        ("plain text", "plain text"),
    ],
)
def test_encoded_words(raw: str, text: str) -> None:
    assert header_text(raw.encode()) == text


def test_decode_words_keeps_text_around() -> None:
    assert decode_words("Re: =?utf-8?q?Angebot?= (2)") == "Re: Angebot (2)"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"L\xfctkebohle", "Lütkebohle"),  # Latin-1
        ("Lütkebohle".encode(), "Lütkebohle"),  # UTF-8
        (b"Preis \x80 100", "Preis € 100"),  # Windows-1252
        ("Юникод".encode() + b"\xf1", "Юникод\ufffd"),  # UTF-8 with a broken byte stays UTF-8
    ],
)
def test_raw_8bit_headers_fall_back_to_a_sensible_charset(raw: bytes, text: str) -> None:
    assert decode_bytes(raw) == text


# --- the header block -----------------------------------------------------------------------


def test_split_headers_unfolds_and_strips_names() -> None:
    raw = (
        b"From Anna Mon Feb  8 02:53:47 1993\r\n"  # mbox separator: not a field
        b"Subject: a long\r\n\tsubject\r\n"
        b"From  : Anna <a@x.de>\r\n"  # obsolete: blanks before the colon
        b"garbage line\r\n"
        b"\r\n"
        b"To: not-a-header@body.de\r\n"
    )
    assert split_headers(raw) == [("Subject", b"a long subject"), ("From", b"Anna <a@x.de>")]


# --- the author ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "address", "name"),
    [
        (f"From: Anna Schäfer <{ANNA}>", ANNA, "Anna Schäfer"),
        (f'From: "Schäfer, Anna" <{ANNA}>', ANNA, "Schäfer, Anna"),
        (f"From: {ANNA} (Anna Schäfer)", ANNA, "Anna Schäfer"),
        (f"From: {ANNA}", ANNA, ""),
        # a display name that looks like an address never wins over the real one
        (f"From: alice@example.com <{ANNA}>", ANNA, "alice@example.com"),
        (f'From: "alice@example.com" <{ANNA}>', ANNA, "alice@example.com"),
        (f"From: =?utf-8?q?alice@example.com?= <{ANNA}>", ANNA, "alice@example.com"),
        # encoded name containing a comma
        (f"From: =?UTF-8?B?Rm9vLCBCYXI=?= <{ANNA}>", ANNA, "Foo, Bar"),
        # split encoded-words in the name
        (
            f"From: =?UTF-8?Q?J=C3=B6rg?=\n =?UTF-8?Q?_M=C3?= =?UTF-8?Q?=BCller?= <{ANNA}>",
            ANNA,
            "Jörg Müller",
        ),
        # obsolete syntax
        (f"From  : Anna <{ANNA}>", ANNA, "Anna"),
        (f"From\t: Anna <{ANNA}>", ANNA, "Anna"),
        # the author is From, not Sender, not Reply-To
        (f"Sender: list@lists.example.org\nFrom: Anna <{ANNA}>\nReply-To: x@y.de", ANNA, "Anna"),
        # several authors: the first
        (f"From: Anna <{ANNA}>, Bob <bob@example.org>", ANNA, "Anna"),
        ("Subject: no author", None, ""),
    ],
)
def test_the_author_is_the_from_mailbox(header: str, address: str | None, name: str) -> None:
    parsed = parse_message(mail(header + "\nSubject: x\nMessage-ID: <1@x>\n"))
    assert parsed.sender == address
    assert parsed.sender_name == name


def test_raw_8bit_from_names() -> None:
    latin1 = parse_message(mail(b"From: J\xfcrgen Wei\xdf <j@x.de>\n"))
    assert (latin1.sender, latin1.sender_name) == ("j@x.de", "Jürgen Weiß")
    utf8 = parse_message(mail("From: Jürgen Weiß <j@x.de>\n".encode()))
    assert utf8.sender_name == "Jürgen Weiß"


def test_the_mbox_from_line_is_not_the_author() -> None:
    parsed = parse_message(mail(f"From spam@evil.example Mon Feb  8 1993\nFrom: <{ANNA}>\n"))
    assert parsed.sender == ANNA


def test_recipients() -> None:
    assert addresses(
        [
            '"Müller, Anna" <Anna@X.de>, bob@y.de (Bob), =?utf-8?q?C=2C_D?= <cd@z.de>',
            "Team: e@x.de, f@x.de;, anna@x.de",
            "undisclosed-recipients:;",
        ]
    ) == ("anna@x.de", "bob@y.de", "cd@z.de", "e@x.de", "f@x.de")


# --- ids and dates --------------------------------------------------------------------------


def test_message_ids() -> None:
    assert message_id_of(" <abc@x.de> ") == "abc@x.de"
    assert message_id_of("<abc@\r\n x.de>") == "abc@x.de"
    assert message_id_of("abc@x.de") == "abc@x.de"
    assert message_id_of("") is None
    assert message_id_of("<>") is None
    huge = message_id_of("<" + "a" * 500 + "@x>")
    assert huge is not None and huge.startswith("sha256:") and len(huge) < 100


def test_a_mail_without_message_id_gets_a_stable_synthetic_one() -> None:
    raw = mail("From: a@x.de\nSubject: Hallo\nDate: Mon, 2 Mar 2026 09:30:00 +0100\n")
    first = parse_message(raw)
    assert first.synthetic_id and first.message_id.startswith("synthetic:")
    assert parse_message(raw).message_id == first.message_id
    # the watcher builds it from the header block and the first body bytes: the same id
    head, _, body = raw.partition(b"\r\n\r\n")
    assert parse_headers(head + b"\r\n\r\n", body_start=body).message_id == first.message_id
    other = parse_message(raw.replace(b"Hallo", b"Hallo!"))
    assert other.message_id != first.message_id
    other_body = parse_message(raw + b"mehr")
    assert other_body.message_id != first.message_id


def test_dates() -> None:
    arrived = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    parsed = parse_message(mail("From: a@x.de\nDate: Mon, 2 Mar 2026 09:30:00 +0100\n"))
    assert parsed.sent_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    missing = parse_message(mail("From: a@x.de\n"), internal_date=arrived)
    assert missing.sent_at == arrived
    garbage = parse_message(mail("From: a@x.de\nDate: next tuesday\n"), internal_date=arrived)
    assert garbage.sent_at == arrived
    naive = parse_message(mail("From: a@x.de\nDate: Mon, 2 Mar 2026 09:30:00 -0000\n"))
    assert naive.sent_at.tzinfo is not None


# --- robots -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "robot"),
    [
        ("", None),
        ("Auto-Submitted: no\n", None),
        ("Auto-Submitted: auto-replied\n", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@y\n", "Auto-Submitted: auto-generated"),
        ("X-Autoreply: yes\n", "x-autoreply: yes"),
        ("Precedence: bulk\n", "Precedence: bulk"),
        ("Precedence: list\n", "Precedence: list"),
        ("Precedence: junk\n", "Precedence: junk"),
        ("Precedence: auto_reply\n", "Precedence: auto_reply"),
        ("Return-Path: <>\n", "bounce (empty Return-Path)"),
        ("Content-Type: multipart/report; report-type=delivery-status\n", "report"),
    ],
)
def test_bounces_and_auto_replies_are_robots(extra: str, robot: str | None) -> None:
    parsed = parse_message(mail(f"From: Anna <{ANNA}>\n{extra}"))
    if robot is None:
        assert parsed.automated is None
    else:
        assert parsed.automated is not None and robot in parsed.automated


def test_mailer_daemon_is_a_robot() -> None:
    parsed = parse_message(mail("From: Mail Delivery System <MAILER-DAEMON@mx.example.de>\n"))
    assert parsed.automated is not None and "mailer-daemon" in parsed.automated


# --- bodies -----------------------------------------------------------------------------------


def test_html_becomes_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<p>Guten&nbsp;Tag &amp; willkommen</p><script>alert(1)</script>"
        "<div>Zeile<br>zwei</div></body></html>"
    )
    assert html_to_text(html) == "Guten Tag & willkommen\n\nZeile\nzwei"


def test_the_snippet_prefers_plain_text_and_lists_attachments() -> None:
    raw = mail(
        'From: a@x.de\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n',
        b"--b\r\n"
        b'Content-Type: multipart/alternative; boundary="c"\r\n\r\n'
        b"--c\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe aus M=FCnchen\r\n"
        b"--c\r\nContent-Type: text/html\r\n\r\n<p>HTML</p>\r\n--c--\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''Angebot%20M%C3%BCller.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
        b'--b\r\nContent-Type: image/png; name="=?utf-8?q?Bild_=C3=BC.png?="\r\n\r\nxx\r\n'
        b"--b--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.snippet == "Grüße aus München"
    assert parsed.attachments == ("Angebot Müller.pdf", "Bild ü.png")


def test_html_only_mail_gets_a_text_snippet() -> None:
    raw = mail(
        "From: a@x.de\nContent-Type: text/html; charset=utf-8\n",
        "<p>Sehr geehrte <b>Frau</b> Schäfer,</p><p>danke.</p>".encode(),
    )
    assert parse_message(raw).snippet == "Sehr geehrte Frau Schäfer,\n\ndanke."


def test_an_undecodable_charset_still_gives_text() -> None:
    raw = mail(
        "From: a@x.de\nContent-Type: text/plain; charset=x-no-such-charset\n",
        "Grüße".encode(),
    )
    assert parse_message(raw).snippet == "Grüße"


def test_a_message_too_large_or_without_headers_is_refused_with_the_reason() -> None:
    with pytest.raises(MessageError, match="too large"):
        parse_message(mail("From: a@x.de\n", b"x" * 2000), max_bytes=1000)
    with pytest.raises(MessageError, match="no header"):
        parse_message(b"just some words\r\nand more\r\n")


# --- what the watcher fetches: BODYSTRUCTURE and the start of one part ------------------------

# as imapclient parses Dovecot's answer for a multipart/mixed mail: text/plain + a PDF
STRUCTURE = (
    [
        (
            [
                (
                    b"text",
                    b"plain",
                    (b"charset", b"iso-8859-1"),
                    None,
                    None,
                    b"quoted-printable",
                    30,
                    1,
                    None,
                    None,
                    None,
                    None,
                ),
                (
                    b"text",
                    b"html",
                    (b"charset", b"utf-8"),
                    None,
                    None,
                    b"base64",
                    400,
                    6,
                    None,
                    None,
                    None,
                    None,
                ),
            ],
            b"alternative",
            (b"boundary", b"c"),
            None,
            None,
            None,
        ),
        (
            b"application",
            b"pdf",
            (b"name", b"x.pdf"),
            None,
            None,
            b"base64",
            200000,
            None,
            (b"attachment", (b"filename*", b"utf-8''Angebot%20M%C3%BCller.pdf")),
            None,
            None,
        ),
        (
            b"message",
            b"rfc822",
            None,
            None,
            None,
            b"7bit",
            500,
            (None,) * 10,
            (b"text", b"plain", None, None, None, b"7bit", 10, 1, None, None, None, None),
            10,
            None,
            (b"attachment", None),
            None,
            None,
        ),
    ],
    b"mixed",
    (b"boundary", b"b"),
    None,
    None,
    None,
)


def test_the_text_part_and_attachments_from_the_bodystructure() -> None:
    part = text_section(STRUCTURE)
    assert part is not None
    assert (part.section, part.subtype, part.charset, part.encoding) == (
        "1.1",
        "plain",
        "iso-8859-1",
        "quoted-printable",
    )
    assert attachments_from_structure(STRUCTURE) == ("Angebot Müller.pdf", "message.eml")
    single = (
        b"text",
        b"html",
        (b"charset", b"utf-8"),
        None,
        None,
        b"base64",
        40,
        1,
        None,
        None,
        None,
        None,
    )
    html = text_section(single)
    assert html is not None and (html.section, html.subtype) == ("1", "html")
    assert attachments_from_structure(single) == ()
    assert text_section(None) is None and attachments_from_structure(b"garbage") == ()


def test_a_snippet_from_the_first_bytes_of_a_part() -> None:
    text = "Grüße aus München. " * 50
    encoded = base64.encodebytes(text.encode("utf-8"))
    cut = encoded[:301]  # a partial fetch ends anywhere, here in the middle of a quantum
    snippet = snippet_from_part(cut, encoding="base64", charset="utf-8", subtype="plain")
    assert snippet.startswith("Grüße aus München. Grüße")
    qp = b"Gr=FC=DFe aus M=FCnc="  # cut inside a soft line break
    assert snippet_from_part(
        qp, encoding="quoted-printable", charset="iso-8859-1", subtype="plain"
    ).startswith("Grüße aus Münc")
    html = snippet_from_part(b"<p>A</p><p>B", encoding="7bit", charset=None, subtype="html")
    assert html == "A\n\nB"


# --- the shared real-world samples ------------------------------------------------------------

SAMPLE_SENDERS = {
    "flanker-encoded-header.eml": ("foo.bar@example.com", "Foo, Bar"),
    "flanker-from-encoding.eml": ("ingo@blank.pages.de", "Ingo Lütkebohle"),
    "flanker-mailformed-headers.eml": ("headers@gmail.com", None),
    "flanker-bounce-mailbox-full.eml": ("mailer-daemon@aol.com", None),
    "flanker-bounce-delayed.eml": ("mailer-daemon@cs.example.com", None),
    "flanker-complaint-aol.eml": ("scomp@aol.net", None),
    "flanker-apache-message-news-mime.eml": ("hartill@lanl.gov", "Rob Hartill"),
    "flanker-attached-pdf-no-from.eml": (None, ""),
    "flanker-torture-part.eml": ("mrc@cac.washington.edu", "Mark Crispin"),
    "flanker-spam-broken-headers.eml": ("admin@advertise-bz.cn", "Link Directory SUbmitter"),
}
ROBOTS = {
    "flanker-bounce-mailbox-full.eml",
    "flanker-bounce-delayed.eml",
    "flanker-complaint-aol.eml",
    "flanker-apache-message-news-mime.eml",  # Precedence: bulk (list mail)
    "flanker-from-encoding.eml",  # Precedence: bulk (list mail)
}


@pytest.mark.parametrize("name", sorted(SAMPLE_SENDERS))
def test_real_world_samples(name: str) -> None:
    raw = integration.testdata("mail-samples", name).read_bytes()
    parsed = parse_message(raw)
    address, display = SAMPLE_SENDERS[name]
    assert parsed.sender == address
    if display is not None:
        assert parsed.sender_name == display
    assert (parsed.automated is not None) == (name in ROBOTS), parsed.automated
    assert parsed.message_id


def test_a_charset_name_with_a_nul_byte_falls_back_instead_of_crashing() -> None:
    """Found by the fuzz test: codecs.lookup raises ValueError, not LookupError, on NUL."""
    from desktop_crm.mail.headers import decode_charset

    assert decode_charset("Grüße".encode(), "utf\x00-8") == "Grüße"
