"""A contact file's text, line by line with line numbers, whatever its encoding.

Files arrive as UTF-8 (with or without BOM), UTF-16 (with BOM, or without when the NUL bytes
give it away) or Windows-1252 (German Excel and Outlook). Apart from UTF-16, every line is
decoded on its own: UTF-8 when it is valid UTF-8, else Windows-1252. So a UTF-8 file with one
line typed in Windows-1252 loses nothing, and a Windows-1252 file is read as such throughout.

Lines end at LF, CRLF, or the doubled CR some exporters write (CR CR LF); files that use only CR
(old Mac spreadsheets) are split at CR. A line number is what a text editor shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_LE_BOM = b"\xff\xfe"
UTF16_BE_BOM = b"\xfe\xff"
HEAD_BYTES = 65536
CHUNK = 1 << 20


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.6 and even.count(0) < len(even) * 0.1:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.6 and odd.count(0) < len(odd) * 0.1:
        return "utf-16-be"
    return None


@dataclass
class TextFile:
    """Reads ``path`` line by line; ``label`` says which encoding was found (after reading)."""

    path: Path
    head: bytes = b""
    utf16: str | None = None
    bom: bool = False
    cr_only: bool = False
    _fallback_lines: int = field(default=0, repr=False)
    _utf8_lines: int = field(default=0, repr=False)

    @classmethod
    def open(cls, path: Path) -> TextFile:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        tf = cls(path, head)
        if head.startswith(UTF8_BOM):
            tf.bom = True
        elif head.startswith((UTF16_LE_BOM, UTF16_BE_BOM)):
            tf.utf16, tf.bom = "utf-16", True
        else:
            tf.utf16 = _utf16_without_bom(head)
        if tf.utf16 is None and b"\r" in head and b"\n" not in head:
            tf.cr_only = True
        return tf

    @property
    def label(self) -> str:
        if self.utf16:
            return "UTF-16"
        if self._fallback_lines and self._utf8_lines:
            return "UTF-8 and Windows-1252 (mixed)"
        if self._fallback_lines:
            return "Windows-1252"
        return "UTF-8 with BOM" if self.bom else "UTF-8"

    def sample_text(self) -> str:
        """The start of the file as text, for recognising its format."""
        if self.utf16:
            codec = self.utf16
            if codec == "utf-16" and not self.head.startswith((UTF16_LE_BOM, UTF16_BE_BOM)):
                codec = "utf-16-le"
            return self.head.decode(codec, errors="ignore").lstrip("\ufeff")
        head = self.head[3:] if self.bom else self.head
        try:
            return head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start > len(head) - 4:  # a character cut off at the end of the sample
                return head[: exc.start].decode("utf-8")
            return head.decode("cp1252", errors="replace")

    def count_lines(self) -> int:
        """How many lines the file has (cheap: counts line ends without decoding)."""
        total = 0
        sep = b"\r" if self.cr_only else b"\n"
        last = b""
        with self.path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                total += chunk.count(sep)
                last = chunk
        if self.utf16:
            total = max(1, total)  # approximate: bytes 0x0A also occur inside other characters
        elif last and not last.endswith(sep):
            total += 1
        return total

    def _decode(self, raw: bytes) -> str:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._fallback_lines += 1
            try:
                return raw.decode("cp1252")
            except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
                return raw.decode("latin-1")
        if not text.isascii():
            self._utf8_lines += 1
        return text

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(line number, text without the line end)`` for every line of the file."""
        if self.utf16:
            with self.path.open(encoding=self.utf16, errors="replace", newline="\n") as fh:
                for number, text in enumerate(fh, start=1):
                    yield number, text.rstrip("\n").rstrip("\r").lstrip("\ufeff")
            return
        if self.cr_only:
            data = self.path.read_bytes()
            if self.bom:
                data = data[3:]
            pieces = data.split(b"\r")
            if len(pieces) > 1 and not pieces[-1]:
                pieces.pop()
            for number, raw in enumerate(pieces, start=1):
                yield number, self._decode(raw)
            return
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == 1 and raw.startswith(UTF8_BOM):
                    raw = raw[3:]
                yield number, self._decode(raw.rstrip(b"\n").rstrip(b"\r"))
