"""Reading a mail's sender: the address in From, role and freemail addresses, robots.

The From header is parsed here, not by :mod:`email.utils`, because that reads
``alice@example.com <bob@example.com>`` as alice (the mailbox is the one in angle brackets).
Bounces and auto-replies (MAILER-DAEMON, postmaster, ``Auto-Submitted``, delivery reports) are
not customers: they are recognised from the address and the headers and never matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from desktop_crm.data.errors import ValidationError
from desktop_crm.data.records import normalize_email

#: Local parts that name a function, not a person: they resolve to the organization.
ROLE_LOCAL_PARTS = frozenset(
    {
        "info",
        "infos",
        "information",
        "service",
        "kundenservice",
        "customerservice",
        "support",
        "help",
        "hilfe",
        "helpdesk",
        "kontakt",
        "contact",
        "office",
        "buero",
        "büro",
        "mail",
        "post",
        "postfach",
        "hello",
        "hallo",
        "team",
        "zentrale",
        "empfang",
        "reception",
        "sales",
        "vertrieb",
        "verkauf",
        "order",
        "orders",
        "bestellung",
        "bestellungen",
        "einkauf",
        "purchasing",
        "buchhaltung",
        "accounting",
        "rechnung",
        "rechnungen",
        "invoice",
        "invoices",
        "billing",
        "finance",
        "finanzen",
        "verwaltung",
        "admin",
        "administrator",
        "webmaster",
        "hostmaster",
        "abuse",
        "security",
        "marketing",
        "presse",
        "press",
        "newsletter",
        "news",
        "jobs",
        "karriere",
        "career",
        "careers",
        "bewerbung",
        "personal",
        "hr",
        "technik",
        "it",
        "logistik",
        "versand",
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "notification",
        "notifications",
        "benachrichtigung",
    }
)

#: Local parts of mail systems themselves: their messages are bounces and reports.
SYSTEM_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "mailerdaemon", "mail-daemon", "maildaemon", "postmaster"}
)

#: Second-level labels that are public suffixes, never an organization's own domain.
_PUBLIC_SECOND_LEVEL = frozenset(
    {
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "co.at",
        "or.at",
        "ac.at",
        "gv.at",
        "priv.at",
        "com.au",
        "co.nz",
        "com.br",
        "co.jp",
        "com.tr",
        "com.pl",
        "co.za",
    }
)


@cache
def freemail_domains() -> frozenset[str]:
    """The freemail list shipped as package data (desktop_crm/identify/freemail.txt)."""
    text = resources.files("desktop_crm.identify").joinpath("freemail.txt").read_text("utf-8")
    out = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            out.add(line)
    return frozenset(out)


def domain_candidates(domain: str) -> list[str]:
    """``mail.mueller.de`` -> [``mail.mueller.de``, ``mueller.de``]: the domain and its parents."""
    labels = domain.lower().strip(".").split(".")
    out = []
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in _PUBLIC_SECOND_LEVEL:
            break
        out.append(candidate)
    return out


def unicode_domain(domain: str) -> str:
    """``xn--mller-bau-q9a.de`` -> ``müller-bau.de`` (organization domains may be stored so)."""
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain


def is_freemail(domain: str) -> bool:
    listed = freemail_domains()
    return any(c in listed for c in domain_candidates(domain))


def split_mailboxes(value: str) -> list[str]:
    """Split an address list at top-level commas (not inside quotes, <>, or comments)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    angle = paren = 0
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "<":
            angle += 1
        elif ch == ">":
            angle = max(angle - 1, 0)
        elif ch == "(":
            paren += 1
        elif ch == ")":
            paren = max(paren - 1, 0)
        elif ch == "," and not angle and not paren:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _strip_comments_and_quotes(text: str) -> str:
    out: list[str] = []
    quoted = escaped = False
    paren = 0
    for ch in text:
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            continue
        if quoted:
            quoted = ch != '"'
            continue
        if ch == '"' and not paren:
            quoted = True
        elif ch == "(":
            paren += 1
        elif ch == ")":
            paren = max(paren - 1, 0)
        elif not paren:
            out.append(ch)
    return "".join(out)


def sender_address(from_value: str | None) -> str | None:
    """The first mailbox of a From value, lower-cased; None when there is none.

    ``Anna <anna@x.de>``, ``anna@x.de (Anna)``, ``"Müller, Anna" <anna@x.de>`` and the
    misleading ``alice@example.com <bob@example.com>`` (bob) all give the address in brackets.
    """
    if not from_value:
        return None
    for mailbox in split_mailboxes(from_value.replace("\r", " ").replace("\n", " ")):
        if "<" in mailbox and ">" in mailbox[mailbox.rfind("<") :]:
            candidate = mailbox[mailbox.rfind("<") + 1 : mailbox.rfind(">")]
        else:
            words = _strip_comments_and_quotes(mailbox).split()
            candidate = next((w for w in words if "@" in w), "")
        try:
            normalized, _domain = normalize_email(candidate.strip())
        except ValidationError:
            continue
        return normalized
    return None


HeaderSource = Mapping[str, str] | Iterable[tuple[str, str]]


def _header_items(headers: HeaderSource | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items: Iterable[tuple[str, str]]
    items = headers.items() if isinstance(headers, Mapping) else headers
    # the mail side may pass obsolete "From  :" names with spaces: compare names stripped
    return [(str(name).strip().lower(), str(value)) for name, value in items]


def automated_reason(local_part: str, headers: HeaderSource | None) -> str | None:
    """Why a message is from a robot (a bounce, an auto-reply), or None for a person."""
    if local_part in SYSTEM_LOCAL_PARTS:
        return f"bounce or report from {local_part}"
    for name, value in _header_items(headers):
        lowered = value.strip().lower()
        keyword = lowered.split(";", 1)[0].strip()
        if name == "auto-submitted" and keyword and keyword != "no":
            return f"Auto-Submitted: {keyword}"
        if name in ("x-autoreply", "x-autorespond", "x-autoresponder") and keyword not in (
            "",
            "no",
            "false",
        ):
            return f"{name}: {keyword}"
        if name == "precedence" and keyword == "auto_reply":
            return "Precedence: auto_reply"
        if name == "x-failed-recipients" and lowered:
            return "bounce (X-Failed-Recipients)"
        if name == "return-path" and lowered.replace(" ", "") == "<>":
            return "bounce (empty Return-Path)"
        if name == "content-type" and keyword == "multipart/report":
            return "delivery or read report (multipart/report)"
    return None


@dataclass(frozen=True)
class Sender:
    raw: str
    address: str | None  # lower-cased, domain in IDNA form
    local_part: str
    domain: str
    role: bool  # info@, service@, noreply@: resolves to the organization
    freemail: bool  # gmail.com, gmx.de, …: the domain says nothing about an organization
    automated: str | None  # why this is not a customer (bounce, auto-reply), or None


def read_sender(from_value: str | None, headers: HeaderSource | None = None) -> Sender:
    """Read a mail's sender from its From value (or, when None, the From in ``headers``)."""
    items = _header_items(headers)
    if from_value is None:
        from_value = next((v for n, v in items if n == "from"), None)
    address = sender_address(from_value)
    if address is None:
        return Sender(from_value or "", None, "", "", False, False, automated_reason("", items))
    local, _, domain = address.rpartition("@")
    base_local = local.split("+", 1)[0]
    return Sender(
        raw=from_value or "",
        address=address,
        local_part=local,
        domain=domain,
        role=base_local in ROLE_LOCAL_PARTS,
        freemail=is_freemail(domain),
        automated=automated_reason(base_local, items),
    )
