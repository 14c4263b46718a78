"""The whole contact list held as keyset anchors: every query against the plain id order.

Runs on SQLite and PostgreSQL (the ``db`` fixture): PostgreSQL orders ``sort_key`` by its
collation, which differs from Python's string order for spaces and punctuation, so the names
here have both, plus exact duplicates (ordered by id).
"""

from __future__ import annotations

from sqlalchemy import text as sql_text

from desktop_crm.data import queries, records
from desktop_crm.data.db import Database
from desktop_crm.data.models import Contact
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput, PhoneInput

NAMES = [
    ("Anna", "Schmidt"),
    ("anna", "schmidt"),  # the same sort key: ordered by id
    ("Ánna", "Schmidt"),
    ("", "Müller-Lüdenscheidt"),
    ("", "Muller Ludenscheid"),
    ("Sean", "O'Brien"),
    ("Sean", "Obrien"),
    ("", "Ab"),
    ("", "A b"),
    ("", "A-c"),
    ("Zoë", "Zander"),
    ("", "Ab-x"),  # byte order: ' ( + . / before - ; ICU: - before ' ( ...
    ("", "Ab'x"),
    ("", "Ab.x"),
    ("", "Ab&x"),
    ("", "Ab+x"),
    ("", "Ab_x"),
    ("", "Ab/x"),
    ("", ""),  # only a number: an empty sort key
]


def _seed(db: Database, copies: int = 4) -> list[int]:
    with db.session() as s:
        org = records.create_organization(s, OrganizationInput(name="Firma Eins")).id
        for n in range(copies):
            for i, (first, last) in enumerate(NAMES):
                records.create_contact(
                    s,
                    ContactInput(
                        first_name=first,
                        last_name=last,
                        city=f"Ort {n}",
                        organization_id=org if i % 3 == 0 else None,
                        phones=[PhoneInput(f"030 5550{n}{i:02d}"), PhoneInput("0171 5558123")],
                        emails=[
                            EmailInput(f"second{n}{i}@example.de"),
                            EmailInput(f"first{n}{i}@example.de", primary=True),
                        ]
                        if i % 2
                        else [],
                    ),
                )
        return queries.contact_ids(s)  # the order every list uses: sort_key, id


def test_anchors_are_every_nth_row_of_the_name_order(db: Database) -> None:
    ids = _seed(db)
    with db.session() as s:
        anchors = queries.contact_anchors(s, every=5, head=7)
        keys = dict(s.query(Contact.id, Contact.sort_key).all())
    assert anchors.count == len(ids) == 4 * len(NAMES)
    assert list(anchors.ids) == ids[::5]
    assert list(anchors.keys) == [keys[i] for i in ids[::5]]
    assert list(anchors.head) == ids[:7]


def test_each_block_read_from_its_anchor_is_that_slice_of_the_list(db: Database) -> None:
    ids = _seed(db)
    with db.session() as s:
        anchors = queries.contact_anchors(s, every=5)
        by_id = queries.contact_rows(s, ids)
        for k in range(len(anchors.ids)):
            key, first = anchors.anchor(k)
            block = queries.contact_block(s, key, first, 5)
            assert [r.id for r in block] == ids[k * 5 : k * 5 + 5]
            assert block == [by_id[i] for i in ids[k * 5 : k * 5 + 5]]


def test_a_list_row_shows_the_first_number_and_the_primary_address(db: Database) -> None:
    ids = _seed(db, copies=1)
    with db.session() as s:
        rows = queries.contact_rows(s, ids)
        with_mail = next(c for c in s.query(Contact).all() if c.last_name == "schmidt")
        plain = next(c for c in s.query(Contact).all() if c.first_name == "Anna")
    row = rows[with_mail.id]
    assert row.email == "first01@example.de"  # primary first, though stored second
    assert row.phone == "030 5550001"  # the first number stored
    assert rows[plain.id].email == ""
    assert rows[plain.id].organization == "Firma Eins"
    assert row.name == "anna schmidt" and row.city == "Ort 0"
    assert set(rows) == set(ids)


def test_the_position_of_every_contact_is_its_row(db: Database) -> None:
    ids = _seed(db)
    with db.session() as s:
        anchors = queries.contact_anchors(s, every=5)
        assert [queries.contact_position(s, i, anchors) for i in ids] == list(range(len(ids)))
        assert queries.contact_position(s, max(ids) + 100, anchors) is None


def test_the_position_is_the_row_shown_with_anchors_out_of_date(db: Database) -> None:
    _seed(db)
    with db.session() as s:
        anchors = queries.contact_anchors(s, every=5)
        # contacts sorting first arrive after the anchors were read: until the list reads
        # its anchors again, block k is still what is read from anchor k, and a contact's
        # row is where that layout shows it (pushed out of it: not shown, None)
        new = [records.create_contact(s, ContactInput(last_name=f"Aaa {n}")) for n in range(7)]
        s.flush()
        shown: dict[int, int] = {}
        for k in range(len(anchors.keys)):
            size = min(5, anchors.count - k * 5)
            for offset, row in enumerate(queries.contact_block(s, *anchors.anchor(k), size)):
                shown.setdefault(row.id, k * 5 + offset)
        everybody = queries.contact_ids(s)
        assert len(shown) < len(everybody)  # some are pushed out until the anchors are new
        for contact_id in everybody:
            assert queries.contact_position(s, contact_id, anchors) == shown.get(contact_id)
        assert any(c.id in shown for c in new)  # where the list reads them now


def test_an_empty_list_has_no_anchors(db: Database) -> None:
    with db.session() as s:
        anchors = queries.contact_anchors(s, every=5, head=3)
        assert (anchors.count, anchors.keys, list(anchors.ids), anchors.head) == (0, (), [], ())
        assert queries.contact_position(s, 1, anchors) is None


def test_a_server_collation_that_ignores_punctuation_orders_the_list(pg_db: Database) -> None:
    """Teams run PostgreSQL with a language's collation ("o'brien" next to "obrien"), not
    the byte order of the test server: anchors, blocks and rows follow the server's order."""
    with pg_db.session() as s:
        s.execute(
            sql_text(
                'ALTER TABLE contact ALTER COLUMN sort_key TYPE varchar(250) COLLATE "de-x-icu"'
            )
        )
    ids = _seed(pg_db, copies=3)
    with pg_db.session() as s:
        keys = dict(s.query(Contact.id, Contact.sort_key).all())
        assert ids != sorted(ids, key=lambda i: (keys[i], i))  # not Python's order
        anchors = queries.contact_anchors(s, every=5, head=4)
        assert list(anchors.ids) == ids[::5] and list(anchors.head) == ids[:4]
        for k in range(len(anchors.keys)):
            block = queries.contact_block(s, *anchors.anchor(k), 5)
            assert [r.id for r in block] == ids[k * 5 : k * 5 + 5]
        assert [queries.contact_position(s, i, anchors) for i in ids] == list(range(len(ids)))
