"""Demo data: a German-speaking company's CRM with a year of history, for trying and measuring.

Companies in Germany, Austria and Switzerland with switchboards and mail domains, their people
with numbers written the many ways people write them, private customers on freemail addresses,
"dirty" records that are only a number or only an address, a year of calls, mails, notes and
meetings, users, queues and open tickets.

One code path for every size: rows are built as plain dicts and written in batches with the
driver's executemany, through statements made from the models' tables and values passed through
the column types' own bind processors (see :class:`_Bulk`). Every derived column is computed by
the functions the record services use (:func:`~desktop_crm.data.phone.normalize_phone`,
:func:`~desktop_crm.data.records.normalize_email`, :func:`~desktop_crm.data.records.sort_key`,
:func:`~desktop_crm.data.records.contact_sort_key`), so a demo contact is stored exactly as
:func:`~desktop_crm.data.records.create_contact` would store it (tests/unit/test_demo.py checks
that, row by row), while a million contacts with ten million history entries still load in one go.

Everything is written in one transaction: the demo is there completely or not at all. An
``AppMeta`` row ``demo_seeded`` (holding the summary as JSON) marks it; a second call, also with a
larger ``contacts``, adds nothing and reports what is there (no top-up: use a fresh database for a
bigger data set).
"""

from __future__ import annotations

import functools
import json
import logging
import operator
import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .errors import DataError, ValidationError
from .models import (
    AppMeta,
    Base,
    Contact,
    Direction,
    EmailAddress,
    Interaction,
    InteractionKind,
    Organization,
    OrganizationDomain,
    PhoneKind,
    PhoneNumber,
    Queue,
    Role,
    Tag,
    Ticket,
    TicketPriority,
    TicketStatus,
    User,
    contact_tag,
    organization_tag,
)
from .phone import NormalizedPhone, normalize_phone
from .records import contact_sort_key, normalize_domain, normalize_email, sort_key

log = logging.getLogger(__name__)

DEMO_MARKER = "demo_seeded"
#: Contacts per batch written (with their numbers, addresses and history); ``progress`` is
#: called after each. Also how many ids are drawn from a PostgreSQL sequence at a time.
BATCH = 10_000
#: Marks the history entries the demo wrote (``Interaction.source``).
DEMO_SOURCE = "demo"
#: SQLite page cache while seeding (negative: KiB), restored afterwards.
SQLITE_CACHE_KIB = -262_144

Row = dict[str, Any]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_ORG = _table(Organization)
_DOMAIN = _table(OrganizationDomain)
_CONTACT = _table(Contact)
_PHONE = _table(PhoneNumber)
_EMAIL = _table(EmailAddress)
_TICKET = _table(Ticket)
_INTERACTION = _table(Interaction)
_USER = _table(User)
_QUEUE = _table(Queue)
_TAG = _table(Tag)
_META = _table(AppMeta)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """Rows the demo wrote.

    Phones and e-mails count those of companies and of people; ``interactions`` include one
    "ticket created" entry per ticket. ``users`` and ``queues`` count the ones created: a user
    with the same login or a queue with the same name that already exists is used as it is.
    """

    organizations: int = 0
    contacts: int = 0
    phones: int = 0
    emails: int = 0
    interactions: int = 0
    tickets: int = 0
    users: int = 0
    queues: int = 0
    already_present: bool = False


# --- the raw material ------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# country -> (calling code, cities as (name, area code, lowest and highest postal code))
_CITIES: dict[str, tuple[str, tuple[tuple[str, str, int, int], ...]]] = {
    "DE": (
        "49",
        (
            ("München", "89", 80331, 81929),
            ("Berlin", "30", 10115, 14199),
            ("Hamburg", "40", 20095, 22769),
            ("Köln", "221", 50667, 51149),
            ("Frankfurt am Main", "69", 60306, 60599),
            ("Stuttgart", "711", 70173, 70629),
            ("Düsseldorf", "211", 40210, 40629),
            ("Leipzig", "341", 4103, 4357),
            ("Dresden", "351", 1067, 1328),
            ("Hannover", "511", 30159, 30669),
            ("Nürnberg", "911", 90402, 90491),
            ("Bremen", "421", 28195, 28779),
            ("Dortmund", "231", 44135, 44388),
            ("Essen", "201", 45127, 45359),
            ("Augsburg", "821", 86150, 86199),
            ("Regensburg", "941", 93047, 93059),
            ("Freiburg im Breisgau", "761", 79098, 79117),
            ("Karlsruhe", "721", 76131, 76229),
            ("Mannheim", "621", 68159, 68309),
            ("Münster", "251", 48143, 48167),
            ("Bielefeld", "521", 33602, 33739),
            ("Kiel", "431", 24103, 24159),
            ("Rostock", "381", 18055, 18147),
            ("Erfurt", "361", 99084, 99099),
            ("Würzburg", "931", 97070, 97084),
            ("Gießen", "641", 35390, 35398),
            ("Lüneburg", "4131", 21335, 21339),
            ("Weißenburg in Bayern", "9141", 91781, 91781),
        ),
    ),
    "AT": (
        "43",
        (
            ("Wien", "1", 1010, 1230),
            ("Graz", "316", 8010, 8055),
            ("Linz", "732", 4020, 4040),
            ("Salzburg", "662", 5020, 5026),
            ("Innsbruck", "512", 6020, 6080),
            ("Klagenfurt am Wörthersee", "463", 9020, 9073),
            ("St. Pölten", "2742", 3100, 3107),
        ),
    ),
    "CH": (
        "41",
        (
            ("Zürich", "44", 8001, 8064),
            ("Bern", "31", 3001, 3030),
            ("Basel", "61", 4001, 4059),
            ("Luzern", "41", 6003, 6015),
            ("St. Gallen", "71", 9000, 9016),
            ("Winterthur", "52", 8400, 8411),
        ),
    ),
}
_COUNTRY_WEIGHTS = (("DE", 0.80), ("AT", 0.10), ("CH", 0.10))

_STREETS = {
    "DE": (
        "Hauptstraße",
        "Bahnhofstraße",
        "Industriestraße",
        "Gewerbering",
        "Am Hafen",
        "Schillerstraße",
        "Goethestraße",
        "Lindenallee",
        "Marktplatz",
        "Mühlweg",
        "Friedrich-Ebert-Straße",
        "Äußere Bayreuther Straße",
        "Königsallee",
        "Im Gewerbepark",
        "Tullastraße",
    ),
    "AT": (
        "Mariahilfer Straße",
        "Landstraßer Hauptstraße",
        "Herrengasse",
        "Wiener Straße",
        "Industriezeile",
        "Grabenweg",
    ),
    "CH": (  # the Swiss write no ß
        "Bahnhofstrasse",
        "Seestrasse",
        "Industriestrasse",
        "Hauptgasse",
        "Dorfstrasse",
        "Zürcherstrasse",
    ),
}

_MALE = _words(
    "Thomas Michael Andreas Stefan Jürgen Jörg Klaus Peter Frank Uwe Björn Sönke Lars Jan "
    "Tobias Florian Matthias Sebastian Maximilian Lukas Felix Jonas Günter Hans-Peter "
    "Karl-Heinz Mehmet Murat Piotr Luca Dominik Bernd Ralf Dirk Holger Torsten René André "
    "Timo Niklas Jürgen-Ernst"
)
_FEMALE = _words(
    "Sabine Petra Claudia Andrea Katrin Anja Bärbel Jutta Ute Monika Anna Lena Julia "
    "Laura Sophie Marie Lea Hannah Käthe Ayşe Elif Magdalena Zoë Renée Jana Nicole "
    "Stefanie Christiane Heike Birgit Anke Franziska Johanna Katharina Verena Ursula "
    "Gisela Hülya"
)
_LAST = (
    *_words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
        "Hofmann Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Köhler Herrmann "
        "König Walter Huber Kaiser Fuchs Peters Scholz Möller Weiß Jung Hahn Vogel Keller "
        "Günther Berger Roth Böhm Krämer Jäger Groß Strauß Voß Brandt Engel Kühn Pfeiffer "
        "Gruber Pichler Steiner Moser Hofer Leitner Brunner Gerber Baumgartner Frei "
        "Müller-Lüdenscheidt Özdemir Yılmaz Nowak Kowalski Nguyen Dąbrowski"
    ),
    "von Bülow",
)
_POSITIONS = (
    ("Geschäftsführer", "Geschäftsführerin"),
    ("Inhaber", "Inhaberin"),
    ("Prokurist", "Prokuristin"),
    ("Einkaufsleiter", "Einkaufsleiterin"),
    ("Sachbearbeiter Einkauf", "Sachbearbeiterin Einkauf"),
    ("Leiter Buchhaltung", "Leiterin Buchhaltung"),
    ("Buchhalter", "Buchhalterin"),
    ("IT-Leiter", "IT-Leiterin"),
    ("Projektleiter", "Projektleiterin"),
    ("Technischer Leiter", "Technische Leiterin"),
    ("Vertriebsleiter", "Vertriebsleiterin"),
    ("Assistent der Geschäftsführung", "Assistentin der Geschäftsführung"),
    ("Werkstattmeister", "Werkstattmeisterin"),
    ("Empfang", "Empfang"),
)
_BRANCHES = (
    "Anlagenbau",
    "Maschinenbau",
    "Haustechnik",
    "Logistik",
    "Software",
    "Medizintechnik",
    "Elektrotechnik",
    "Metallbau",
    "Verpackungen",
    "Druck & Medien",
    "Steuerberatung",
    "Immobilien",
    "Kältetechnik",
    "Fördertechnik",
    "Feinkost",
    "Bauunternehmung",
    "Systemhaus",
    "Spedition",
    "Präzisionsteile",
    "Solartechnik",
    "Gebäudereinigung",
    "Kunststofftechnik",
)
_TRADES = (  # sole proprietors: "Bäckerei Huber e.K."
    "Bäckerei",
    "Schreinerei",
    "Elektro",
    "Autohaus",
    "Malerbetrieb",
    "Fliesen",
    "Sanitär",
    "Getränkehandel",
    "Blumen",
    "Optik",
)
_REGIONS = ("Alpen", "Nord", "Rhein", "Elbe", "Isar", "Main", "Hanse", "Donau", "Spree", "Süd")
_LEGAL = {
    "DE": ("GmbH", "GmbH", "GmbH", "AG", "KG", "GmbH & Co. KG", "OHG"),
    "AT": ("GmbH", "GmbH", "AG", "KG", "OG"),
    "CH": ("AG", "AG", "GmbH"),
}
_SOLE = {"DE": "e.K.", "AT": "e.U.", "CH": "Einzelunternehmen"}
_FREEMAIL = {
    "DE": ("gmx.de", "web.de", "t-online.de", "gmail.com", "outlook.de", "freenet.de", "posteo.de"),
    "AT": ("gmx.at", "aon.at", "gmail.com", "chello.at"),
    "CH": ("bluewin.ch", "gmx.ch", "gmail.com", "hispeed.ch"),
}
_MOBILE = {
    "DE": (
        ("151", 8),
        ("152", 8),
        ("157", 8),
        ("159", 8),
        ("160", 7),
        ("162", 7),
        ("170", 7),
        ("171", 7),
        ("172", 7),
        ("173", 7),
        ("175", 7),
        ("176", 8),
        ("177", 8),
        ("179", 8),
    ),
    "AT": (("650", 7), ("660", 7), ("664", 7), ("676", 7), ("680", 7), ("699", 7)),
    "CH": (("76", 7), ("77", 7), ("78", 7), ("79", 7)),
}
_LANGUAGES = {
    "DE": ("de",) * 18 + ("en", "tr"),
    "AT": ("de",) * 9 + ("en",),
    "CH": ("de",) * 6 + ("fr", "fr", "it", "en"),
}
_ORG_TAGS = (("Bestandskunde", 0.5), ("Interessent", 0.2), ("Lieferant", 0.05))
# tag name -> important
_TAGS = {
    "VIP": True,
    "Key Account": True,
    "Newsletter": False,
    "Bestandskunde": False,
    "Interessent": False,
    "Lieferant": False,
    "Messe 2025": False,
}
_CONSENT_SOURCES = ("Webformular", "Visitenkarte Messe", "Telefonisch", "Bestellformular")
_CONTACT_NOTES = (
    "Bevorzugt Kontakt per E-Mail.",
    "Nicht vor 10 Uhr anrufen.",
    "Wechselt zum 1. Juli in die Niederlassung Hamburg.",
    "Hat Interesse an Wartungsvertrag Premium.",
    "Ansprechpartner für alle Rahmenverträge.",
    "Spricht auch Englisch und Türkisch.",
)
_ORG_NOTES = (
    "Rahmenvertrag bis 12/2027.",
    "Zahlungsziel 30 Tage netto, 2 % Skonto bei 10 Tagen.",
    "Lieferungen nur Mo–Do, Rampe 3.",
    "Jahresgespräch immer im Februar.",
)
_CALL_SUBJECTS = (
    "Rückfrage zur Rechnung",
    "Lieferstatus Auftrag",
    "Reklamation Lieferung",
    "Terminvereinbarung",
    "Angebot nachgefasst",
    "Passwort zurücksetzen",
    "Wartungsvertrag",
    "Preisanfrage Ersatzteile",
    "Rückruf erbeten",
)
_CALL_NOTES = (
    "Kunde bittet um Rückruf bis Freitag.",
    "Angebot per Mail zugesagt.",
    "Techniker für nächste Woche eingeplant.",
    "Rechnung wird korrigiert, Gutschrift folgt.",
    "Ansprechpartner im Urlaub, Vertretung: Frau Weiß.",
)
_MAIL_SUBJECTS = (
    "Angebot Nr. {n}",
    "AW: Angebot Nr. {n}",
    "Rechnung {n}",
    "Ihre Anfrage vom {d}",
    "Bestellung #{n}",
    "Lieferschein fehlt zu Auftrag {n}",
    "Einladung zur Hausmesse",
    "Wartungstermin KW {w}",
    "WG: Preisliste {y}",
    "Änderung unserer Bankverbindung",
)
_MAIL_BODIES = (
    "Sehr geehrte Damen und Herren,\nanbei erhalten Sie die gewünschten Unterlagen.",
    "Hallo zusammen,\nkönnen Sie mir bitte den Liefertermin bestätigen?",
    "Guten Tag,\nvielen Dank für Ihre schnelle Rückmeldung.",
    "Grüezi,\nwir bitten um eine kurze Bestätigung des Auftrags.",
    "Servus,\nanbei die korrigierte Rechnung.",
)
_NOTES = (
    "Kunde plant Erweiterung des Standorts, Angebot im Herbst.",
    "Zahlungserinnerung telefonisch besprochen.",
    "Neue Ansprechpartnerin für den Einkauf.",
    "Bevorzugt Lieferung vormittags.",
    "Reklamation intern an Qualitätssicherung weitergegeben.",
)
_MEETINGS = (
    "Vor-Ort-Termin",
    "Jahresgespräch",
    "Produktvorführung",
    "Messebesuch Hannover Messe",
    "Abnahme der Anlage",
    "Onlinetermin: Schulung",
)
# queue -> ticket subjects
_TICKETS = {
    "Support": (
        "Drucker druckt keine Etiketten mehr",
        "Login am Kundenportal schlägt fehl",
        "Fehlermeldung E-4711 an Anlage 3",
        "Ersatzteil Dichtungssatz benötigt",
        "Software-Update bricht ab",
    ),
    "Vertrieb": (
        "Angebot für 25 Lizenzen",
        "Rahmenvertrag Verlängerung",
        "Anfrage Staffelpreise",
        "Musterbestellung",
    ),
    "Buchhaltung": (
        "Rechnung doppelt erhalten",
        "Gutschrift für Retoure",
        "Änderung der Bankverbindung",
        "Mahnung trotz Zahlung",
    ),
}
_QUEUES = (
    ("Support", "Technische Anfragen und Störungen", "support@musterfirma.de"),
    ("Vertrieb", "Angebote, Bestellungen, Verträge", "vertrieb@musterfirma.de"),
    ("Buchhaltung", "Rechnungen, Gutschriften, Mahnungen", "buchhaltung@musterfirma.de"),
)
# login, name, role, extension
_USERS = (
    ("thomas.berger", "Thomas Berger", Role.ADMIN, "100"),
    ("sabine.wolf", "Sabine Wolf", Role.SUPERVISOR, "200"),
    ("lena.hoffmann", "Lena Hoffmann", Role.AGENT, "201"),
    ("murat.yilmaz", "Murat Yılmaz", Role.AGENT, "202"),
    ("jonas.krueger", "Jonas Krüger", Role.AGENT, "203"),
    ("sophie.weiss", "Sophie Weiß", Role.AGENT, "204"),
    ("felix.schaefer", "Felix Schäfer", Role.AGENT, "205"),
    ("marie.koehler", "Marie Köhler", Role.AGENT, "206"),
    ("claudia.neumann", "Claudia Neumann", Role.BACKOFFICE, "301"),
    ("stefan.gross", "Stefan Groß", Role.BACKOFFICE, "302"),
    ("petra.vogel", "Petra Vogel", Role.BACKOFFICE, "303"),
)
_TICKET_STATUS = (
    (TicketStatus.NEW, 0.20),
    (TicketStatus.OPEN, 0.35),
    (TicketStatus.WAITING_CUSTOMER, 0.15),
    (TicketStatus.WAITING_THIRD_PARTY, 0.10),
    (TicketStatus.RESOLVED, 0.12),
    (TicketStatus.CLOSED, 0.08),
)
_TICKET_PRIORITY = (
    (TicketPriority.LOW, 0.15),
    (TicketPriority.NORMAL, 0.55),
    (TicketPriority.HIGH, 0.22),
    (TicketPriority.URGENT, 0.08),
)
# priority -> (first response due, resolution due)
_SLA = {
    TicketPriority.LOW: (timedelta(hours=24), timedelta(days=10)),
    TicketPriority.NORMAL: (timedelta(hours=8), timedelta(days=5)),
    TicketPriority.HIGH: (timedelta(hours=2), timedelta(days=2)),
    TicketPriority.URGENT: (timedelta(hours=1), timedelta(days=1)),
}
_DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
_WAITING = (TicketStatus.WAITING_CUSTOMER, TicketStatus.WAITING_THIRD_PARTY)


def _written_direct_dial(cc: str) -> tuple[Callable[[str, str, str], str], ...]:
    """A direct-dial number (area code, base number, extension) as people write it."""
    return (
        lambda a, s, e: f"+{cc} (0){a} {s}-{e}",
        lambda a, s, e: f"0{a}/{s}-{e}",
        lambda a, s, e: f"(0{a}) {(s + e)[:4]} {(s + e)[4:]}",
        lambda a, s, e: f"00{cc} {a} {s}{e}",
        lambda a, s, e: f"+{cc}-{a}-{s}-{e}",
        lambda a, s, e: f"+{cc} {a} {s}-{e}",
        lambda a, s, e: f"0{a} {s}-{e}",
    )


_DIRECT_DIAL = {"DE": _written_direct_dial("49"), "AT": _written_direct_dial("43")}


def _written_plain(cc: str) -> tuple[Callable[[str, str], str], ...]:
    """A number without a written extension (mobile, home, Swiss direct line)."""
    return (
        lambda a, s: f"0{a} {s}",
        lambda a, s: f"0{a}/{s}",
        lambda a, s: f"+{cc} {a} {s}",
        lambda a, s: f"+{cc} (0){a} {s}",
        lambda a, s: f"0{a}-{s}",
        lambda a, s: f"0{a}{s.replace(' ', '')}",
        lambda a, s: f"00{cc} {a} {s}",
    )


_PLAIN = {country: _written_plain(cc) for country, (cc, _) in _CITIES.items()}

_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ı": "i"}
)


@functools.lru_cache(maxsize=4096)
def _ascii(text: str) -> str:
    """``Müller-Lüdenscheidt`` -> ``Mueller-Luedenscheidt``, as people write mail addresses."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch in ".-"))


def _slug(text: str) -> str:
    words = _ascii(text.replace("&", " ").replace(".", " ").replace(" ", "-").lower())
    return "-".join(w for w in words.split("-") if w)


def _digits(rng: random.Random, n: int) -> str:
    """``n`` digits, the first not 0 or 1 (no trunk prefix, no special number)."""
    return str(rng.randint(2 * 10 ** (n - 1), 10**n - 1))


def _weighted(rng: random.Random, choices: Sequence[tuple[Any, float]]) -> Any:
    r = rng.random()
    for value, weight in choices:
        r -= weight
        if r < 0:
            return value
    return choices[-1][0]


@dataclass(slots=True)
class _Org:
    id: int
    name: str
    country: str
    cc: str  # calling code
    area: str
    base: str  # subscriber part of the switchboard number, without extension
    domain: str | None  # own mail domain; small firms use freemail
    ext_digits: int
    used_ext: set[str] = field(default_factory=set)
    used_local: set[str] = field(default_factory=set)

    @property
    def switchboard(self) -> tuple[str, str]:
        """(as written, E.164): "+49 89 2020447-0"; Swiss numbers have a fixed length."""
        if self.country == "CH":
            return f"+{self.cc} {self.area} {self.base} 00", self.e164("00")
        return f"+{self.cc} {self.area} {self.base}-0", self.e164("0")

    def e164(self, extension: str) -> str:
        return f"+{self.cc}{self.area}{self.base.replace(' ', '')}{extension}"


_NEXTVAL = text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)")


class _Ids:
    """Primary keys handed out before rows are written, so children can point at parents.

    PostgreSQL: drawn from the table's own sequence, safe next to other writers. SQLite: after
    ``max(id)``, which is what SQLite itself would hand out; the seeding transaction already
    holds SQLite's write lock, so nobody else can take them meanwhile.
    """

    def __init__(self, conn: Connection, table: Table) -> None:
        self._conn = conn
        self._table = table
        self._pg = conn.dialect.name == "postgresql"
        self._pool: list[int] = []
        self._next = 0
        if not self._pg:
            self._next = (conn.scalar(select(func.max(table.c.id))) or 0) + 1

    def take(self) -> int:
        if not self._pg:
            self._next += 1
            return self._next - 1
        if not self._pool:
            drawn = self._conn.scalars(_NEXTVAL, {"t": self._table.name, "n": BATCH})
            self._pool = sorted(drawn, reverse=True)
        return self._pool.pop()


class _Bulk:
    """Writes one table's rows with the driver's executemany, without per-row overhead.

    The statement names every column of the table (``id`` only where the rows bring their own),
    so a row that misses a column fails loudly instead of being stored incomplete. Each value
    goes through its column type's own bind processor, the function SQLAlchemy would call (the
    UTC check of ``UTCDateTime``, the enum and boolean conversions), once per distinct value.
    Measured on SQLite, Core ``insert()`` executemany spent ~15 µs a row building and
    processing parameters, a quarter of the whole run for 100,000 contacts; this is the same
    statement, the same values and the same driver call without that overhead.
    """

    def __init__(self, conn: Connection, table: Table, *, with_id: bool) -> None:
        dialect = conn.dialect
        self.conn = conn
        columns = [c for c in table.c if with_id or c.key != "id"]
        self.getters = [operator.itemgetter(c.key) for c in columns]
        self.processors: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = []
        for i, column in enumerate(columns):
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors.append((i, process, {}))
        prep = dialect.identifier_preparer
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.sql = (
            f"INSERT INTO {prep.format_table(table)} "
            f"({', '.join(prep.format_column(c) for c in columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )

    def write(self, rows: list[Row]) -> None:
        # column by column: the loops run in C, and enums, flags, dates and the pooled history
        # times repeat, so each distinct value is processed once
        columns = [list(map(get, rows)) for get in self.getters]
        for i, process, done in self.processors:
            for value in set(columns[i]).difference(done):
                done[value] = process(value)
            columns[i] = list(map(done.__getitem__, columns[i]))
        self.conn.exec_driver_sql(self.sql, list(zip(*columns, strict=True)))


class _Seeder:
    """Makes the demo rows and writes them in batches, parents before children."""

    _ORDER = (
        _ORG,
        _DOMAIN,
        organization_tag,
        _CONTACT,
        contact_tag,
        _PHONE,
        _EMAIL,
        _TICKET,
        _INTERACTION,
    )

    def __init__(self, conn: Connection, rng: random.Random, now: datetime) -> None:
        self.conn = conn
        self.rng = rng
        self.now = now
        self.pending: dict[Table, list[Row]] = {t: [] for t in self._ORDER}
        self.counts: dict[Table, int] = dict.fromkeys(self._ORDER, 0)
        with_id = (_ORG, _CONTACT, _TICKET)
        self.bulk = {t: _Bulk(conn, t, with_id=t in with_id) for t in self._ORDER}
        # the one normaliser; remembered, as switchboard numbers are copied onto contacts
        self.normalize = functools.lru_cache(maxsize=1 << 16)(normalize_phone)
        self.org_ids = _Ids(conn, _ORG)
        self.contact_ids = _Ids(conn, _CONTACT)
        self.ticket_ids = _Ids(conn, _TICKET)
        self.org_serial = 0
        self.ticket_serial = 0
        self.domains: set[str] = set()
        self.freemail_used: set[str] = set()
        self.recent_domains: list[str] = []
        self.users: dict[Role, list[int]] = {}
        self.queues: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.created_users = 0
        self.created_queues = 0
        self.instants: list[datetime] = []

    def history_times(self, contacts: int) -> None:
        """Moments of the past year's working hours (weekdays, 06:00–17:00 UTC) for history.

        A pool, drawn from: at a million contacts several entries share a second, as they do in
        a busy call centre, and each distinct time is converted for the database only once.
        """
        rng, now = self.rng, self.now
        today = now.replace(hour=6, minute=0, second=0, microsecond=0)
        days = [d for d in (today - timedelta(days=n) for n in range(1, 366)) if d.weekday() < 5]
        size = min(1 << 18, max(1 << 12, 4 * contacts))
        self.instants = sorted(
            days[int(rng.random() * len(days))] + timedelta(seconds=rng.randrange(39600))
            for _ in range(size)
        )

    # --- reference data (few rows, reused when already there) ------------------------------

    def reference_data(self) -> None:
        conn, stamp = self.conn, self.now
        user_t, queue_t, tag_t = _USER, _QUEUE, _TAG
        logins = {r.login: r.id for r in conn.execute(select(user_t.c.login, user_t.c.id))}
        for login, name, role, ext in _USERS:
            uid = logins.get(login)
            if uid is None:
                uid = conn.scalar(
                    insert(user_t)
                    .values(
                        login=login,
                        name=name,
                        role=role,
                        phone_extension=ext,
                        email=f"{login}@musterfirma.de",
                        active=True,
                        created_at=stamp,
                        updated_at=stamp,
                        version=1,
                    )
                    .returning(user_t.c.id)
                )
                self.created_users += 1
            assert uid is not None
            self.users.setdefault(role, []).append(uid)
        names = {r.name: r.id for r in conn.execute(select(queue_t.c.name, queue_t.c.id))}
        for qname, description, email in _QUEUES:
            qid = names.get(qname)
            if qid is None:
                qid = conn.scalar(
                    insert(queue_t)
                    .values(
                        name=qname,
                        description=description,
                        email=email,
                        created_at=stamp,
                        updated_at=stamp,
                        version=1,
                    )
                    .returning(queue_t.c.id)
                )
                self.created_queues += 1
            assert qid is not None
            self.queues[qname] = qid
        tags = {r.name: r.id for r in conn.execute(select(tag_t.c.name, tag_t.c.id))}
        for tname, important in _TAGS.items():
            tid = tags.get(tname)
            if tid is None:
                tid = conn.scalar(
                    insert(tag_t).values(name=tname, important=important).returning(tag_t.c.id)
                )
            assert tid is not None
            self.tags[tname] = tid
        self.agents = self.users[Role.AGENT]
        self.sales = self.users[Role.AGENT][:3] + self.users[Role.SUPERVISOR]
        self.backoffice = self.users[Role.BACKOFFICE]

    # --- writing ---------------------------------------------------------------------------

    def flush(self) -> None:
        for table in self._ORDER:
            rows = self.pending[table]
            if rows:
                self.bulk[table].write(rows)
                self.counts[table] += len(rows)
                rows.clear()

    def phone(
        self, raw: str, kind: PhoneKind, region: str, *, contact: int | None, org: int | None
    ) -> None:
        n: NormalizedPhone = self.normalize(raw.strip(), region)
        self.pending[_PHONE].append(
            {
                "contact_id": contact,
                "organization_id": org,
                "kind": kind,
                "raw": raw,
                "extension": n.extension,
                "e164": n.e164,
                "base_e164": n.base_e164,
                "suffix_key": n.suffix_key,
            }
        )

    def email(self, raw: str, primary: bool, *, contact: int | None, org: int | None) -> str:
        normalized, domain = normalize_email(raw)
        self.pending[_EMAIL].append(
            {
                "contact_id": contact,
                "organization_id": org,
                "raw": raw,
                "normalized": normalized,
                "domain": domain,
                "is_primary": primary,
            }
        )
        return normalized

    # --- companies -------------------------------------------------------------------------

    def _company_name(self, country: str) -> tuple[str, str, bool]:
        """(name, the part a domain is made of, whether it is a sole proprietor)."""
        rng = self.rng
        last = rng.choice(_LAST)
        r = rng.random()
        if r < 0.12:
            return f"{rng.choice(_TRADES)} {last} {_SOLE[country]}", "", True
        legal = rng.choice(_LEGAL[country])
        if r < 0.45:
            core = f"{last} {rng.choice(_BRANCHES)}"
        elif r < 0.65:
            core = f"{last} & {rng.choice(_LAST)}"
        elif r < 0.9:
            core = f"{rng.choice(_REGIONS)} {rng.choice(_BRANCHES)}"
        else:
            core = f"Gebr. {last}"
            legal = "GmbH & Co. KG" if country == "DE" else legal
        return f"{core} {legal}", core, False

    def _unique_domain(self, core: str, tld: str, city: str) -> str:
        base = _slug(core)
        candidate = f"{base}.{tld}"
        if candidate in self.domains:
            candidate = f"{base}-{_slug(city)}.{tld}"
        n = 2
        while candidate in self.domains:
            candidate = f"{base}-{n}.{tld}"
            n += 1
        self.domains.add(candidate)
        return candidate

    def organization(self) -> _Org:
        rng, now = self.rng, self.now
        country = _weighted(rng, _COUNTRY_WEIGHTS)
        cc, cities = _CITIES[country]
        city, area, plz_lo, plz_hi = rng.choice(cities)
        name, core, sole = self._company_name(country)
        freemail = sole and rng.random() < 0.6
        domain = None if freemail else self._unique_domain(core or name, country.lower(), city)
        oid = self.org_ids.take()
        self.org_serial += 1
        if country == "CH":  # fixed-length numbers: a block of 100, "00" is the switchboard
            base, ext_digits = f"{_digits(rng, 3)} {rng.randint(10, 99)}", 2
        else:
            base = _digits(rng, 8 - len(area) if len(area) > 1 else 7)
            ext_digits = 2 if rng.random() < 0.7 else 3
        org = _Org(oid, name, country, cc, area, base, domain, ext_digits)
        created = now - timedelta(days=rng.randint(400, 3000))
        self.pending[_ORG].append(
            {
                "id": oid,
                "name": name,
                "sort_key": sort_key(name),
                "customer_number": f"K-{100000 + self.org_serial}",
                "notes": rng.choice(_ORG_NOTES) if rng.random() < 0.15 else "",
                "owner_id": rng.choice(self.sales) if rng.random() < 0.6 else None,
                "street": f"{rng.choice(_STREETS[country])} {rng.randint(1, 180)}",
                "postal_code": f"{rng.randint(plz_lo, plz_hi):0{5 if country == 'DE' else 4}d}",
                "city": city,
                "country": country,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        self.phone(org.switchboard[0], PhoneKind.SWITCHBOARD, country, contact=None, org=oid)
        if rng.random() < 0.4 and country != "CH":
            self.phone(f"+{cc} {area} {base}-99", PhoneKind.FAX, country, contact=None, org=oid)
        if domain is not None:
            self.pending[_DOMAIN].append(
                {"organization_id": oid, "domain": normalize_domain(domain)}
            )
            self.recent_domains.append(domain)
            if rng.random() < 0.6:
                self.email(f"info@{domain}", True, contact=None, org=oid)
        elif freemail:
            local = _slug(name.rsplit(" ", 1)[0]).replace("-", ".")
            self.email(f"{local}@{rng.choice(_FREEMAIL[country])}", True, contact=None, org=oid)
        org_tags = [t for t, p in _ORG_TAGS if rng.random() < p]
        if rng.random() < 0.05:
            org_tags.append("Key Account")
        for t in org_tags:
            self.pending[organization_tag].append({"organization_id": oid, "tag_id": self.tags[t]})
        return org

    # --- people ----------------------------------------------------------------------------

    def _person(self, country: str) -> tuple[str, str, str, str, bool]:
        """(salutation, title, first name, last name, female)."""
        rng = self.rng
        female = rng.random() < 0.5
        first = rng.choice(_FEMALE if female else _MALE)
        last = rng.choice(_LAST)
        salutation = ("Frau" if female else "Herr") if rng.random() < 0.95 else ""
        r = rng.random()
        if r < 0.06:
            title = "Dr."
        elif r < 0.07:
            title = "Prof. Dr."
        elif r < 0.10:
            title = {"DE": "Dipl.-Ing.", "AT": "Mag.", "CH": "lic. oec."}[country]
        else:
            title = ""
        return salutation, title, first, last, female

    def _mobile(self, country: str) -> tuple[str, str]:
        """(as written, E.164) of a mobile number."""
        rng = self.rng
        prefix, n = rng.choice(_MOBILE[country])
        number = _digits(rng, n)
        e164 = f"+{_CITIES[country][0]}{prefix}{number}"
        if country == "CH":
            number = f"{number[:3]} {number[3:5]} {number[5:]}"
        return rng.choice(_PLAIN[country])(prefix, number), e164

    def _landline(self, country: str) -> tuple[str, str]:
        rng = self.rng
        cc, cities = _CITIES[country]
        _, area, _, _ = rng.choice(cities)
        if country == "CH":
            number = f"{_digits(rng, 3)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        else:
            number = _digits(rng, 8 - len(area) if len(area) > 1 else 7)
        return rng.choice(_PLAIN[country][:4])(
            area, number
        ), f"+{cc}{area}{number.replace(' ', '')}"

    def _freemail(self, first: str, last: str, country: str) -> str:
        rng = self.rng
        f, la = _ascii(first).lower(), _ascii(last.replace(" ", "")).lower()
        for _ in range(10):
            r = rng.random()
            if r < 0.4:
                local = f"{f}.{la}{rng.randint(1, 99) if rng.random() < 0.5 else ''}"
            elif r < 0.7:
                local = f"{f[0]}{la}{rng.randint(1950, 2005)}"
            elif r < 0.9:
                local = f"{la}.{f}{rng.randint(1, 999)}"
            else:
                local = f"{f}{la}{rng.randint(1, 9999)}"
            address = f"{local}@{rng.choice(_FREEMAIL[country])}"
            if address not in self.freemail_used:
                self.freemail_used.add(address)
                return address
        return address  # a shared address is a real-world case too

    def _work_mail(self, org: _Org, first: str, last: str) -> str:
        rng = self.rng
        f, la = _ascii(first), _ascii(last.replace(" ", ""))
        r = rng.random()
        if r < 0.55:
            local = f"{f}.{la}"
        elif r < 0.8:
            local = f"{f[0]}.{la}"
        elif r < 0.9:
            local = la
        else:
            local = f"{f[0]}{la}"
        local = local if rng.random() < 0.07 else local.lower()  # some write "Anna.Schaefer@"
        unique, n = local, 2
        while unique.lower() in org.used_local:
            unique, n = f"{local}{n}", n + 1
        org.used_local.add(unique.lower())
        assert org.domain is not None
        domain = org.domain if rng.random() < 0.95 else org.domain.title()
        return f"{unique}@{domain}"

    def _direct_dial(self, org: _Org) -> tuple[str, str]:
        """(as written, E.164) of a direct line: base number plus extension ("Durchwahl")."""
        rng = self.rng
        lo, hi = (10, 89) if org.ext_digits == 2 else (100, 899)
        ext = str(rng.randint(lo, hi))
        for _ in range(5):
            if ext not in org.used_ext:
                break
            ext = str(rng.randint(lo, hi))
        org.used_ext.add(ext)
        if org.country == "CH":
            written = rng.choice(_PLAIN["CH"][:4])(org.area, f"{org.base} {ext}")
        else:
            written = rng.choice(_DIRECT_DIAL[org.country])(org.area, org.base, ext)
        return written, org.e164(ext)

    def _contact_row(
        self,
        *,
        names: tuple[str, str, str, str, bool] | None,
        org: _Org | None,
        country: str | None,
        first_phone: str,
        first_mail: str,
        private: bool,
    ) -> int:
        rng, now = self.rng, self.now
        cid = self.contact_ids.take()
        salutation, title, first, last, female = names or ("", "", "", "", False)
        key = _name_sort_key(first, last)
        if not key:  # a record without a name sorts by its number or address, as in records
            key = contact_sort_key("", "", org.name if org else "", first_phone, first_mail)
        created = now - timedelta(days=rng.randint(370, 2500))
        consent = names is not None and rng.random() < 0.3
        row: Row = {
            "id": cid,
            "salutation": salutation,
            "title": title,
            "first_name": first,
            "last_name": last,
            "sort_key": key,
            "organization_id": org.id if org else None,
            "position": rng.choice(_POSITIONS)[female] if org and names else "",
            "language": rng.choice(_LANGUAGES[country]) if names and country else "",
            "marketing_consent": consent,
            "consent_date": (now - timedelta(days=rng.randint(30, 1200))).date()
            if consent
            else None,
            "consent_source": rng.choice(_CONSENT_SOURCES) if consent else "",
            "notes": rng.choice(_CONTACT_NOTES) if names and rng.random() < 0.1 else "",
            "birthday": date(rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28))
            if names and rng.random() < 0.2
            else None,
            "street": "",
            "postal_code": "",
            "city": "",
            "country": country,
            "created_at": created,
            "updated_at": created,
            "version": 1,
        }
        if private and country:
            _, cities = _CITIES[country]
            city, _, plz_lo, plz_hi = rng.choice(cities)
            row["street"] = f"{rng.choice(_STREETS[country])} {rng.randint(1, 120)}"
            row["postal_code"] = f"{rng.randint(plz_lo, plz_hi):0{5 if country == 'DE' else 4}d}"
            row["city"] = city
        tags = []
        if names and rng.random() < 0.04:
            tags.append("VIP")
        if consent and rng.random() < 0.7:
            tags.append("Newsletter")
        if org and rng.random() < 0.03:
            tags.append("Messe 2025")
        for t in tags:
            self.pending[contact_tag].append({"contact_id": cid, "tag_id": self.tags[t]})
        self.pending[_CONTACT].append(row)
        return cid

    def employee(self, org: _Org) -> None:
        rng = self.rng
        names = self._person(org.country)
        phones: list[tuple[tuple[str, str], PhoneKind]] = []
        r = rng.random()
        if r < 0.8:
            phones.append((self._direct_dial(org), PhoneKind.WORK))
        elif r < 0.95:  # only the switchboard, copied from the letterhead
            phones.append((org.switchboard, PhoneKind.WORK))
        if rng.random() < 0.85:
            phones.append((self._mobile(org.country), PhoneKind.MOBILE))
        mails: list[str] = []
        if rng.random() < 0.92:
            if org.domain is not None:
                mails.append(self._work_mail(org, names[2], names[3]))
            else:
                mails.append(self._freemail(names[2], names[3], org.country))
        self._store_contact(names, org, org.country, phones, mails, private=False, history=10)

    def private_customer(self) -> None:
        country = _weighted(self.rng, _COUNTRY_WEIGHTS)
        names = self._person(country)
        phones = [(self._mobile(country), PhoneKind.MOBILE)]
        if self.rng.random() < 0.6:
            phones.append((self._landline(country), PhoneKind.HOME))
        if self.rng.random() < 0.2:
            phones.append((self._landline(country), PhoneKind.WORK))
        mails = [self._freemail(names[2], names[3], country)]
        self._store_contact(names, None, country, phones, mails, private=True, history=5)

    def dirty(self, only_phone: bool) -> None:
        """A record that is only a number or only an address, as a quick capture leaves it."""
        rng = self.rng
        if only_phone:
            number = self._mobile("DE") if rng.random() < 0.6 else self._landline("DE")
            self._store_contact(None, None, None, [(number, PhoneKind.OTHER)], [], False, 2)
            return
        first, last = rng.choice(_MALE + _FEMALE), rng.choice(_LAST)
        if self.recent_domains and rng.random() < 0.5:  # a company address, not yet linked
            f, la = _ascii(first).lower(), _ascii(last.replace(" ", "")).lower()
            mail = f"{f}.{la}@{rng.choice(self.recent_domains)}"
        else:
            mail = self._freemail(first, last, "DE")
        self._store_contact(None, None, None, [], [mail], False, 2)

    def _store_contact(
        self,
        names: tuple[str, str, str, str, bool] | None,
        org: _Org | None,
        country: str | None,
        phones: list[tuple[tuple[str, str], PhoneKind]],
        mails: list[str],
        private: bool,
        history: int,
    ) -> None:
        cid = self._contact_row(
            names=names,
            org=org,
            country=country,
            first_phone=phones[0][0][0] if phones else "",
            first_mail=normalize_email(mails[0])[0] if mails else "",
            private=private,
        )
        region = country or "DE"  # the contact's country, else the home country, as in records
        for (raw, _), kind in phones:
            self.phone(raw, kind, region, contact=cid, org=None)
        addresses = [self.email(m, i == 0, contact=cid, org=None) for i, m in enumerate(mails)]
        org_id = org.id if org else None
        numbers = [e164 for (_, e164), _ in phones]
        self._history(cid, org_id, numbers, addresses, history, known=names is not None)
        if names is not None and self.rng.random() < 0.05:
            self._ticket(cid, org_id)

    # --- history and tickets ---------------------------------------------------------------

    def _history(
        self,
        contact: int,
        org: int | None,
        numbers: list[str],
        addresses: list[str],
        mean: int,
        known: bool,
    ) -> None:
        """Calls, mails, notes and meetings of the past year, oldest first."""
        rng = self.rng
        rnd = rng.random
        instants, agents, backoffice = self.instants, self.agents, self.backoffice
        n_instants, n_agents = len(instants), len(agents)
        count = rng.randint(max(1, mean // 2), mean + mean // 2 + 1)
        picks = sorted(int(rnd() * n_instants) for _ in range(count))
        rows = self.pending[_INTERACTION]
        for pick in picks:
            at = instants[pick]
            r = rnd()
            duration: int | None = None
            outcome = subject = body = remote = ""
            user: int | None = agents[int(rnd() * n_agents)]
            if numbers and (r < 0.55 or not addresses):
                kind = InteractionKind.CALL
                inbound = rnd() < 0.55 or not known
                direction = Direction.INBOUND if inbound else Direction.OUTBOUND
                remote = numbers[int(rnd() * len(numbers))]
                if rnd() < (0.8 if inbound and known else 0.3 if inbound else 0.7):
                    outcome = "answered"
                    duration = 15 + int(rng.expovariate(1 / 240))
                    if rnd() < 0.6:
                        subject = _CALL_SUBJECTS[int(rnd() * len(_CALL_SUBJECTS))]
                    if rnd() < 0.3:
                        body = _CALL_NOTES[int(rnd() * len(_CALL_NOTES))]
                else:
                    outcome = "missed"
            elif addresses and (r < 0.85 or not known):
                kind = InteractionKind.EMAIL
                direction = Direction.INBOUND if rnd() < 0.5 or not known else Direction.OUTBOUND
                remote = addresses[0]
                template = _MAIL_SUBJECTS[int(rnd() * len(_MAIL_SUBJECTS))]
                subject = template.format(
                    n=f"{at.year}-{1000 + int(rnd() * 9000)}",
                    d=(at - timedelta(days=1 + int(rnd() * 9))).strftime("%d.%m."),
                    w=at.isocalendar().week,
                    y=at.year,
                )
                body = _MAIL_BODIES[int(rnd() * len(_MAIL_BODIES))]
                if "Rechnung" in subject or "Bank" in subject:
                    user = backoffice[int(rnd() * len(backoffice))]
            elif r < 0.93 or org is None:
                kind, direction = InteractionKind.NOTE, Direction.NONE
                body = _NOTES[int(rnd() * len(_NOTES))]
            else:
                kind, direction = InteractionKind.MEETING, Direction.NONE
                subject = _MEETINGS[int(rnd() * len(_MEETINGS))]
                duration = 1800 * (1 + int(rnd() * 4))
            rows.append(
                {
                    "kind": kind,
                    "direction": direction,
                    "occurred_at": at,
                    "duration_seconds": duration,
                    "outcome": outcome,
                    "subject": subject,
                    "body": body,
                    "user_id": user,
                    "contact_id": contact,
                    "organization_id": org,
                    "ticket_id": None,
                    "remote": remote,
                    "source": DEMO_SOURCE,
                    "external_id": None,
                    "created_at": at,
                    "updated_at": at,
                    "version": 1,
                }
            )

    def _ticket(self, contact: int, org: int | None) -> None:
        rng, now = self.rng, self.now
        status: TicketStatus = _weighted(rng, _TICKET_STATUS)
        priority: TicketPriority = _weighted(rng, _TICKET_PRIORITY)
        queue = rng.choice(tuple(_TICKETS))
        done = status in _DONE
        created = now - timedelta(seconds=rng.randrange((90 if done else 21) * 86400))
        respond_in, resolve_in = _SLA[priority]
        responded = None
        if status != TicketStatus.NEW:
            responded = created + timedelta(seconds=rng.randrange(int(respond_in.total_seconds())))
            responded = min(responded, now)
        resolved = None
        if done:
            assert responded is not None
            resolved = responded + (now - responded) * rng.random()
        staff = self.backoffice if queue == "Buchhaltung" else self.agents
        assignee = None if status == TicketStatus.NEW and rng.random() < 0.7 else rng.choice(staff)
        tid = self.ticket_ids.take()
        self.ticket_serial += 1
        number = f"T-{self.ticket_serial:06d}"
        subject = rng.choice(_TICKETS[queue])
        channel = rng.choice(("phone", "email", "email", "manual"))
        updated = resolved or responded or created
        running = status in (TicketStatus.NEW, TicketStatus.OPEN)
        warn_first = created + respond_in * 0.75 if running and responded is None else None
        warn_resolution = created + resolve_in * 0.75 if running else None
        sla_due = sla_warn = None
        if running:
            sla_due = created + (respond_in if responded is None else resolve_in)
            sla_warn = warn_first or warn_resolution
        self.pending[_TICKET].append(
            {
                "id": tid,
                "number": number,
                "subject": subject,
                "description": f"{subject}. Bitte um Rückmeldung.",
                "queue_id": self.queues[queue],
                "priority": priority,
                "status": status,
                "channel": channel,
                "assignee_id": assignee,
                "contact_id": contact,
                "organization_id": org,
                "first_response_due": created + respond_in,
                "resolution_due": created + resolve_in,
                "first_responded_at": responded,
                "resolved_at": resolved,
                "closed_at": resolved if status == TicketStatus.CLOSED else None,
                # SLA state as desktop_crm.tickets stores it (round-the-clock targets here)
                "first_response_warn_at": warn_first,
                "resolution_warn_at": warn_resolution,
                "sla_due": sla_due,
                "sla_warn_at": sla_warn,
                "sla_paused": status in _WAITING,
                "created_at": created,
                "updated_at": updated,
                "version": 1,
            }
        )
        self.pending[_INTERACTION].append(
            {
                "kind": InteractionKind.TICKET_EVENT,
                "direction": Direction.NONE,
                "occurred_at": created,
                "duration_seconds": None,
                "outcome": "",
                "subject": f"Ticket {number} angelegt: {subject}",
                "body": "",
                "user_id": assignee,
                "contact_id": contact,
                "organization_id": org,
                "ticket_id": tid,
                "remote": "",
                "source": DEMO_SOURCE,
                "external_id": None,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )

    def summary(self) -> DemoSummary:
        c = self.counts
        return DemoSummary(
            organizations=c[_ORG],
            contacts=c[_CONTACT],
            phones=c[_PHONE],
            emails=c[_EMAIL],
            interactions=c[_INTERACTION],
            tickets=c[_TICKET],
            users=self.created_users,
            queues=self.created_queues,
        )


@functools.lru_cache(maxsize=1 << 15)
def _name_sort_key(first: str, last: str) -> str:
    """The sort key of a named contact, by the service's own function (names repeat a lot)."""
    return contact_sort_key(first, last)


def _stored_summary(conn: Connection) -> DemoSummary | None:
    value = conn.scalar(select(AppMeta.value).where(AppMeta.key == DEMO_MARKER))
    if value is None:
        return None
    try:
        counts = json.loads(value)
    except ValueError:
        counts = {}
    known = {k: int(v) for k, v in counts.items() if k in DemoSummary.__dataclass_fields__}
    known.pop("already_present", None)
    return DemoSummary(**known, already_present=True)


def seed_demo(
    db: Database,
    *,
    contacts: int = 250,
    seed: int = 2026,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> DemoSummary:
    """Load the demo data set into ``db`` once; the same ``seed`` and ``now`` give the same data.

    ``now`` anchors the year of history (default: the current time; it must carry a time zone).
    ``progress(done, total)`` is called with the contacts made so far after each batch; raising
    from it cancels, and nothing is kept. When the demo is already there (``AppMeta``
    ``demo_seeded``), nothing is written and the summary of that run comes back with
    ``already_present=True``, whatever ``contacts`` says.
    """
    if contacts < 0:
        raise ValidationError("the number of demo contacts cannot be negative", field="contacts")
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValidationError("'now' must carry a time zone", field="now")
    now = now.astimezone(UTC)
    started = time.perf_counter()
    try:
        with db.session() as session:
            conn = session.connection()
            stored = _stored_summary(conn)
            if stored is not None:
                return stored
            # claim the marker first: it takes SQLite's write lock, and a second seeder on
            # PostgreSQL waits here and then finds the demo present
            conn.execute(insert(_META).values(key=DEMO_MARKER, value="{}"))
            summary = _seed(conn, contacts, seed, now, progress)
            meta = {**asdict(summary), "seed": seed, "seeded_at": now.isoformat()}
            del meta["already_present"]
            conn.execute(
                update(_META).where(_META.c.key == DEMO_MARKER).values(value=json.dumps(meta))
            )
    except IntegrityError as exc:
        with db.session() as session:
            stored = _stored_summary(session.connection())
        if stored is not None:  # someone else loaded it meanwhile
            return stored
        raise DataError(
            "The demo data clashes with records already in this database (customer or ticket "
            "numbers); load the demo into an empty database."
        ) from exc
    log.info(
        "demo data loaded in %.1f s: %s",
        time.perf_counter() - started,
        ", ".join(f"{k}={v}" for k, v in asdict(summary).items() if k != "already_present"),
    )
    return summary


def _seed(
    conn: Connection,
    total: int,
    seed: int,
    now: datetime,
    progress: Progress | None,
) -> DemoSummary:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # SQLite's default page cache (2 MB) makes index updates of big tables slow
        cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    try:
        return _generate(_Seeder(conn, random.Random(seed), now), total, progress)
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_size or -2000)}")


def _generate(seeder: _Seeder, total: int, progress: Progress | None) -> DemoSummary:
    rng = seeder.rng
    seeder.reference_data()
    seeder.history_times(total)
    made = reported = unit = 0
    if progress is not None:
        progress(0, total)
    while made < total:
        # the first four units make one of each kind, so even a tiny data set has them all
        kind = unit if unit < 4 else None
        r = rng.random()
        if kind == 0 or (kind is None and r < 0.45):
            org = seeder.organization()
            size = min(total - made, 1 + min(40, int(rng.expovariate(1 / 6))))
            for _ in range(size):
                seeder.employee(org)
            made += size
        elif kind == 1 or (kind is None and r < 0.80):
            seeder.private_customer()
            made += 1
        else:
            seeder.dirty(only_phone=kind == 2 or (kind is None and r < 0.92))
            made += 1
        unit += 1
        if made - reported >= BATCH and made < total:
            seeder.flush()
            seeder.recent_domains = seeder.recent_domains[-1000:]
            reported = made
            if progress is not None:
                progress(made, total)
    seeder.flush()
    if progress is not None:
        progress(total, total)
    return seeder.summary()
