"""Each role connects AS its own login and the PostgreSQL server refuses what it may not do.

Nothing here trusts the client: every refusal is the server's (GRANTs, row-level security,
triggers), turned into PermissionDenied with a sentence by the one mapping in data/team.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError

from desktop_crm.cli import main
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import DatabaseUnavailable, PermissionDenied
from desktop_crm.data.history import InteractionInput, log_interaction
from desktop_crm.data.models import (
    AuditLog,
    Contact,
    Interaction,
    InteractionKind,
    Queue,
    Role,
    Tag,
    Ticket,
    User,
)
from desktop_crm.data.team import (
    apply_team_setup,
    current_role,
    end_sessions,
    list_users,
    set_active,
    set_role,
)
from tests.helpers.integration import unavailable
from tests.helpers.postgres import PostgresServer
from tests.helpers.team import TeamDatabase, team_database

pytestmark = pytest.mark.integration


@pytest.fixture
def team(pg_server: PostgresServer | str, pg_template: str | None) -> Iterator[TeamDatabase]:
    if isinstance(pg_server, str) or pg_template is None:
        unavailable(str(pg_server))
        raise AssertionError("unreachable")
    with team_database(pg_server, pg_template) as team:
        with team.owner.session() as s:
            org = records.create_organization(s, records.OrganizationInput(name="Alpen GmbH"))
            records.create_contact(
                s,
                records.ContactInput(
                    first_name="Anna",
                    last_name="Berg",
                    organization_id=org.id,
                    phones=[records.PhoneInput("+49 641 81156-0")],
                ),
            )
            s.add(Queue(name="Support"))
            s.add(Ticket(number="T-1", subject="Drucker"))
        yield team


def _contact_id(db: Database) -> int:
    with db.session() as s:
        return s.scalars(select(Contact.id)).one()


def _refused(db: Database, work, sentence: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied) as info, db.session() as s:
        work(s)
    assert str(info.value) == sentence


def test_group_roles_form_a_chain_and_setup_is_idempotent(team: TeamDatabase) -> None:
    with team.owner.engine.begin() as conn:
        second = apply_team_setup(conn)  # again: creates nothing, grants the same
        chain = conn.execute(
            text(
                "SELECT g.rolname, m.rolname FROM pg_auth_members a "
                "JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
                "WHERE g.rolname LIKE 'crm\\_%' AND m.rolname LIKE 'crm\\_%' ORDER BY 1"
            )
        ).all()
    assert second.created_roles == ()
    assert "audit_log" in second.tables
    assert second.defaulted == ("alembic_version",)  # read for all, written by admins
    assert chain == [
        ("crm_agent", "crm_backoffice"),
        ("crm_backoffice", "crm_supervisor"),
        ("crm_supervisor", "crm_admin"),
    ]


def test_a_table_of_a_later_migration_gets_the_default_rights(team: TeamDatabase) -> None:
    with team.owner.engine.begin() as conn:
        conn.execute(text("CREATE TABLE later_table (id serial PRIMARY KEY, note text)"))
        report = apply_team_setup(conn)
    assert "later_table" in report.defaulted
    agent, admin = team.login(Role.AGENT), team.login(Role.ADMIN)
    with agent.session() as s:
        assert s.execute(text("SELECT * FROM later_table")).all() == []
    _refused(
        agent,
        lambda s: s.execute(text("INSERT INTO later_table (note) VALUES ('x')")),
        "Your role (agent) may not add later table.",
    )
    with admin.session() as s:
        s.execute(text("INSERT INTO later_table (note) VALUES ('x')"))


@pytest.mark.parametrize("role", list(Role))
def test_the_client_learns_its_role_from_the_server(team: TeamDatabase, role: Role) -> None:
    login, password = team.add(role)
    db = team.connect(login, password)
    with db.session() as s:
        assert current_role(s) is role
        assert s.scalar(text("SELECT current_user")) == login


def test_agent_reads_customers_logs_calls_and_notes_but_may_not_edit_records(
    team: TeamDatabase,
) -> None:
    login, password = team.add(Role.AGENT)
    agent = team.connect(login, password)
    cid = _contact_id(agent)
    agent_url = agent.url.render_as_string(hide_password=False)
    assert main(["export", "--format", "json", "--database", agent_url]) == 1  # client's rule
    with agent.session() as s:  # allowed: read, log a call and a note, create a ticket
        contact = records.get_contact(s, cid)
        assert contact.last_name == "Berg"
        call, _ = log_interaction(
            s,
            InteractionInput(
                kind=InteractionKind.CALL, contact_id=cid, source="sip:t", external_id="c-1"
            ),
        )
        note, _ = log_interaction(s, InteractionInput(kind=InteractionKind.NOTE, contact_id=cid))
        s.add(Ticket(number="T-2", subject="Rückruf", contact_id=cid))
        s.flush()
        call.outcome = "answered"
        note.body = "ruft morgen zurück"
    with agent.session() as s:  # the server signed the note with the agent's user id
        me = s.scalar(select(User.id).where(User.login == text("current_user")))
        assert s.get(Interaction, note.id).user_id == me  # type: ignore[union-attr]

    _refused(
        agent,
        lambda s: records.update_contact(
            s, cid, 1, records.ContactInput(first_name="Anne", last_name="Berg")
        ),
        "Your role (agent) may not change contacts.",
    )
    _refused(
        agent,
        lambda s: s.execute(delete(Contact).where(Contact.id == cid)),
        "Your role (agent) may not delete contacts.",
    )
    with (
        pytest.raises(PermissionDenied, match=r"^Your role \(agent\) may not delete "),
        agent.session() as s,  # the service deletes the numbers first: refused there
    ):
        records.delete_contact(s, cid, 1)
    _refused(
        agent,
        lambda s: records.create_contact(s, records.ContactInput(last_name="Neu")),
        "Your role (agent) may not add contacts.",
    )
    _refused(
        agent,
        lambda s: s.execute(delete(Interaction).where(Interaction.id == call.id)),
        "Your role (agent) may not delete history entries.",
    )
    _refused(
        agent,
        lambda s: s.execute(delete(Ticket)),
        "Your role (agent) may not delete tickets.",
    )
    _refused(
        agent, lambda s: s.add(Tag(name="VIP")) or s.flush(), "Your role (agent) may not add tags."
    )
    _refused(
        agent,
        lambda s: s.scalars(select(AuditLog)).all(),
        "Your role (agent) may not read the audit log.",
    )
    _refused(
        agent,
        lambda s: s.add(User(login="x", name="x")) or s.flush(),
        "Your role (agent) may not add users.",
    )
    _refused(
        agent,
        lambda s: s.add(Queue(name="Sales")) or s.flush(),
        "Your role (agent) may not add queues.",
    )
    with agent.session() as s:  # the refusals changed nothing
        assert records.get_contact(s, cid).first_name == "Anna"
        assert s.scalar(select(Interaction.outcome).where(Interaction.id == call.id)) == "answered"


def test_agent_changes_only_notes_they_wrote(team: TeamDatabase) -> None:
    first, second = team.login(Role.AGENT), team.login(Role.AGENT)
    cid = _contact_id(first)
    with first.session() as s:
        note, _ = log_interaction(
            s, InteractionInput(kind=InteractionKind.NOTE, contact_id=cid, body="mine")
        )
    with first.session() as s:
        s.get(Interaction, note.id).body = "still mine"  # type: ignore[union-attr]

    def edit(s):  # type: ignore[no-untyped-def]
        s.get(Interaction, note.id).body = "not yours"
        s.flush()

    _refused(
        second, edit, "Your role (agent) may not write or change notes in someone else's name."
    )

    def kind(s):  # type: ignore[no-untyped-def]
        s.execute(update(Interaction).where(Interaction.id == note.id).values(kind="call"))

    _refused(second, kind, "Your role (agent) may not change history entries.")
    other = team.users[team.logins[0]].id

    def forge(s):  # type: ignore[no-untyped-def]
        log_interaction(
            s, InteractionInput(kind=InteractionKind.NOTE, contact_id=cid, user_id=other)
        )

    _refused(
        second, forge, "Your role (agent) may not write or change notes in someone else's name."
    )
    backoffice = team.login(Role.BACKOFFICE)
    with backoffice.session() as s:  # the back office corrects anybody's notes
        s.get(Interaction, note.id).body = "corrected"  # type: ignore[union-attr]


def test_agents_take_tickets_supervisors_assign_them(team: TeamDatabase) -> None:
    agent, supervisor = team.login(Role.AGENT), team.login(Role.SUPERVISOR)
    agent_id = team.users[team.logins[0]].id
    supervisor_id = team.users[team.logins[1]].id
    with agent.session() as s:  # taking it oneself is fine
        ticket = s.scalars(select(Ticket).where(Ticket.number == "T-1")).one()
        ticket.assignee_id = agent_id

    def hand_over(s):  # type: ignore[no-untyped-def]
        s.scalars(select(Ticket).where(Ticket.number == "T-1")).one().assignee_id = supervisor_id
        s.flush()

    _refused(agent, hand_over, "Your role (agent) may not assign tickets to other people.")
    with supervisor.session() as s:
        s.scalars(select(Ticket).where(Ticket.number == "T-1")).one().assignee_id = supervisor_id
        s.add(Queue(name="Sales"))


def test_backoffice_edits_imports_and_deletes_records_but_not_history(team: TeamDatabase) -> None:
    backoffice = team.login(Role.BACKOFFICE)
    cid = _contact_id(backoffice)
    with backoffice.session() as s:
        records.update_contact(
            s,
            cid,
            1,
            records.ContactInput(first_name="Anne", last_name="Berg", tags=["VIP"]),
        )
        new = records.create_contact(s, records.ContactInput(last_name="Neu"))
    with backoffice.session() as s:
        records.delete_contact(s, new.id, new.version)
    _refused(
        backoffice,
        lambda s: s.execute(delete(Interaction)),
        "Your role (backoffice) may not delete history entries.",
    )
    _refused(
        backoffice,
        lambda s: s.add(Queue(name="Sales")) or s.flush(),
        "Your role (backoffice) may not add queues.",
    )
    _refused(
        backoffice,
        lambda s: s.execute(delete(Ticket)),
        "Your role (backoffice) may not delete tickets.",
    )


def test_supervisor_manages_queues_and_deletes_tickets_not_users(team: TeamDatabase) -> None:
    supervisor = team.login(Role.SUPERVISOR)
    with supervisor.session() as s:
        s.add(Queue(name="Sales"))
        s.execute(delete(Ticket).where(Ticket.number == "T-1"))
    _refused(
        supervisor,
        lambda s: s.execute(update(User).values(name="x")),
        "Your role (supervisor) may not change users.",
    )
    _refused(
        supervisor,
        lambda s: s.scalars(select(AuditLog)).all(),
        "Your role (supervisor) may not read the audit log.",
    )


def test_admin_manages_users_reads_the_audit_log_but_cannot_rewrite_it(team: TeamDatabase) -> None:
    login, password = team.add(Role.ADMIN)
    admin = team.connect(login, password)
    agent_login, _ = team.add(Role.AGENT)
    with admin.session() as s:  # an admin login (CREATEROLE) manages the others
        assert s.scalars(select(AuditLog)).first() is not None
        s.execute(delete(Interaction))
        set_role(s, agent_login, Role.SUPERVISOR)
        set_active(s, agent_login, False)
    with admin.session() as s:
        row = next(u for u in list_users(s) if u.login == agent_login)
        assert (row.role, row.server_role, row.active, row.can_login) == (
            Role.SUPERVISOR,
            Role.SUPERVISOR,
            False,
            False,
        )
    _refused(
        admin,
        lambda s: s.execute(delete(AuditLog)),
        "Your role (admin) may not delete the audit log.",
    )


def test_a_disabled_user_cannot_connect(team: TeamDatabase) -> None:
    login, password = team.add(Role.AGENT)
    with team.owner.session() as s:
        set_active(s, login, False)
    db = team.connect(login, password)
    with pytest.raises(DatabaseUnavailable, match="not permitted to log in"):
        db.check_connection()


def test_disabling_a_user_ends_their_open_connections(team: TeamDatabase) -> None:
    """A person who leaves is out at once, not when their client next restarts."""
    login, password = team.add(Role.AGENT)
    db = team.connect(login, password)
    with db.session() as s:
        s.scalar(select(Contact.id).limit(1))  # a pooled connection is open now
    colleague_login, colleague_password = team.add(Role.AGENT)
    colleague = team.connect(colleague_login, colleague_password)
    with colleague.session() as s:
        s.scalar(select(Contact.id).limit(1))
    with team.owner.session() as s:
        set_active(s, login, False)
    with team.owner.session() as s:
        assert end_sessions(s, login) == (1, 0)
    # the next use of the disabled user's connection finds it gone, and logging in again is
    # refused with the sentence the client shows
    with (
        pytest.raises(OperationalError, match=r"not permitted to log in|terminat|closed"),
        db.session() as s,
    ):
        s.scalar(select(Contact.id).limit(1))
    with pytest.raises(DatabaseUnavailable, match="not permitted to log in"):
        db.check_connection()
    with colleague.session() as s:  # nobody else was touched
        s.scalar(select(Contact.id).limit(1))
    db.dispose()
    colleague.dispose()


def test_ending_connections_the_server_refuses_is_counted_and_changes_nothing_else(
    team: TeamDatabase,
) -> None:
    admin_login, admin_password = team.add(Role.ADMIN)
    admin = team.connect(admin_login, admin_password)
    login, password = team.add(Role.AGENT)
    db = team.connect(login, password)
    with db.session() as s:
        s.scalar(select(Contact.id).limit(1))
    with admin.session() as s:
        set_active(s, login, False)
    with admin.session() as s:
        ended, refused = end_sessions(s, login)
        assert (ended, refused) in ((1, 0), (0, 1))  # the server decides who may signal whom
    with admin.session() as s:
        row = next(u for u in list_users(s) if u.login == login)
        assert not row.active and not row.can_login
    db.dispose()
    admin.dispose()


def test_a_login_that_is_no_crm_user_cannot_open_the_database(team: TeamDatabase) -> None:
    login, password = team.add(Role.AGENT)
    with team.owner.session() as s:  # a login the server knows, but outside the team roles
        s.execute(text(f'REVOKE crm_agent FROM "{login}"'))
    with pytest.raises(DatabaseUnavailable, match="permission denied for database"):
        team.connect(login, password).check_connection()  # db init revoked CONNECT from PUBLIC


def test_passwords_are_stored_as_scram_verifiers(team: TeamDatabase) -> None:
    login, password = team.add(Role.AGENT)
    with team.owner.engine.connect() as conn:
        stored = conn.scalar(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": login}
        )
    assert stored.startswith("SCRAM-SHA-256$")
    assert password not in stored


def test_an_agents_ticket_in_a_round_robin_queue_goes_to_the_next_colleague(
    team: TeamDatabase,
) -> None:
    """The queue's own assignment is not the agent handing work to a colleague: the server
    lets it through (and only it), while handing over by hand stays refused."""
    from desktop_crm.data.models import AssignmentMode
    from desktop_crm.tickets.assignment import set_members, set_presence
    from desktop_crm.tickets.service import QueueSetup, TicketInput, create_ticket, save_queue

    agent = team.login(Role.AGENT)
    team.login(Role.AGENT)
    me, colleague = (team.users[login].id for login in team.logins[:2])
    with team.owner.session() as s:
        queue = save_queue(
            s, QueueSetup(name="Hotline", assignment_mode=AssignmentMode.ROUND_ROBIN)
        )
        set_members(s, queue.id, [colleague])
        set_presence(s, colleague, True)
        queue_id = queue.id
    with agent.session() as s:
        ticket = create_ticket(s, TicketInput(subject="Rückruf", queue_id=queue_id), user_id=me)
        assert ticket.assignee_id == colleague
        number = ticket.number

    def hand_over(s):  # type: ignore[no-untyped-def]
        s.scalars(select(Ticket).where(Ticket.number == number)).one().assignee_id = me
        s.flush()
        s.scalars(select(Ticket).where(Ticket.number == number)).one().assignee_id = None
        s.flush()

    _refused(agent, hand_over, "Your role (agent) may not assign tickets to other people.")
