"""Reading a mail's header block where Python's ``email`` package is not correct enough.

We split and unfold the header block ourselves, because the stdlib parser drops a field written
in the obsolete ``From  :`` syntax (RFC 5322 §4.5.1: white space before the colon) as a
misplaced mbox line, and decode encoded-words (RFC 2047) ourselves, because neighbouring
encoded-words must be joined *before* their bytes are decoded (a UTF-8 character split over two
words) and the white space between them dropped. Raw 8-bit header bytes (not allowed, but
common) are read as UTF-8 when they are UTF-8, else as Windows-1252.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

#: A header line: a field name (printable ASCII without ':'), optional white space, ':'.
_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")

#: Charsets that are, in practice, written by programs that mean Windows-1252.
_WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii"})


def header_end(raw: bytes) -> int:
    """Offset of the body: after the first empty line, or the end when there is none."""
    match = re.search(rb"\r?\n\r?\n", raw)
    return match.end() if match else len(raw)


def split_headers(raw: bytes) -> list[tuple[str, bytes]]:
    """The header fields of a message (or of a header block) as ``(name, raw value)``.

    Names keep their case but lose surrounding blanks (``From  :`` is From); folded lines are
    unfolded; a leading mbox ``From `` line and lines that are no field are left out.
    """
    block = raw[: header_end(raw)]
    fields: list[tuple[str, bytearray]] = []
    for line in re.split(rb"\r?\n", block):
        if not line.strip():
            continue
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1][1].extend(b" " + line.strip(b" \t"))
            continue
        match = _FIELD.match(line)
        if match is None:  # the mbox line ("From alice@x Mon Feb 8 …") or garbage
            continue
        name = match.group(1).decode("ascii")
        fields.append((name, bytearray(line[match.end() :].strip(b" \t"))))
    return [(name, bytes(value)) for name, value in fields]


def decode_bytes(data: bytes) -> str:
    """Text of raw bytes of unknown charset: UTF-8 when it is mostly UTF-8, else Windows-1252.

    A UTF-8 text with one broken byte stays UTF-8 (the broken byte becomes U+FFFD); a Latin-1
    name such as ``L\\xfctkebohle`` reads as Lütkebohle.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    good = sum(1 for ch in lenient if ord(ch) > 0x7F and ch != "\ufffd")
    if good > bad:
        return lenient
    return decode_charset(data, "windows-1252")


def decode_charset(data: bytes, charset: str | None) -> str:
    """``data`` in ``charset``; an unknown or lying charset falls back to :func:`decode_bytes`."""
    if not charset:
        return decode_bytes(data)
    name = charset.strip().strip('"').split("*", 1)[0].lower()
    if name in _WINDOWS_1252_ALIASES:
        # what browsers do: ISO-8859-1 labelled text is Windows-1252 (and ASCII-labelled mail
        # with 8-bit bytes is too), but UTF-8 mislabelled as Latin-1 is UTF-8
        try:
            return data.decode("utf-8") if name == "us-ascii" else data.decode("cp1252")
        except UnicodeDecodeError:
            return decode_bytes(data)
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):  # unknown, or not a name at all ("utf\0…")
        return decode_bytes(data)
    try:
        return data.decode(codec.name)
    except UnicodeDecodeError:
        if codec.name == "utf-8":
            return decode_bytes(data)
        return data.decode(codec.name, errors="replace")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "bB":
            compact = re.sub(r"\s", "", text)
            padded = compact + "=" * (-len(compact) % 4)
            return base64.b64decode(padded)
        data = text.replace("_", " ").encode("ascii", errors="replace")
        return _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    except (binascii.Error, ValueError):
        return None


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words in ``text``.

    Adjacent encoded-words (only white space between them) are joined: their white space is
    dropped, and words in the same charset are decoded together, so a character split over two
    words comes out whole. A word that cannot be decoded stays as written.
    """
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # (charset, bytes) of the current run of words

    def flush() -> None:
        if pending:
            charset, data = pending[0]
            for next_charset, next_data in pending[1:]:
                if next_charset == charset:
                    data += next_data
                else:
                    out.append(decode_charset(data, charset))
                    charset, data = next_charset, next_data
            out.append(decode_charset(data, charset))
            pending.clear()

    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (pending and between.strip() == ""):
            flush()
            out.append(between)
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            flush()
            out.append(match.group(0))
        else:
            pending.append((match.group(1).split("*", 1)[0].lower(), data))
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out)


def header_text(raw: bytes) -> str:
    """A header value as people read it: 8-bit bytes and encoded-words decoded, one line."""
    return " ".join(decode_words(decode_bytes(raw)).split())
