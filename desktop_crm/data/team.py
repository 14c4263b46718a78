"""The shared PostgreSQL database for teams: roles the server enforces, users, refusals in words.

Every desktop client holds its own database login, so hiding a button is not a permission: the
server decides. Four NOLOGIN group roles form a chain (``crm_agent`` ⊂ ``crm_backoffice`` ⊂
``crm_supervisor`` ⊂ ``crm_admin``: each is a member of the one before and inherits its rights);
a person is a LOGIN role in exactly one of them plus a ``user_account`` row.

What each role may do is one table → rights mapping (:data:`TABLE_RIGHTS`), granted to the lowest
role that needs it. Rules that depend on the row (an agent changes only notes they wrote; only
supervisors hand tickets to other people) are row-level security policies and triggers, which
raise SQLSTATE 42501 like a refused GRANT, so one mapping (:func:`watch_permissions`) turns every
refusal into :class:`~desktop_crm.data.errors.PermissionDenied` with a sentence a user reads.

:func:`apply_team_setup` is idempotent: ``desktop-crm db init`` runs it after the schema
migration, ``desktop-crm db upgrade`` again after every upgrade, so new tables get their rights.
Tables this mapping does not know get a safe default: everybody reads, only admins write.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session

from .errors import DataError, NotFound, PermissionDenied, ValidationError
from .models import Role, User

log = logging.getLogger(__name__)

#: The group roles, lowest first; each is granted to the next (the chain of inheritance).
GROUPS: dict[Role, str] = {
    Role.AGENT: "crm_agent",
    Role.BACKOFFICE: "crm_backoffice",
    Role.SUPERVISOR: "crm_supervisor",
    Role.ADMIN: "crm_admin",
}
_ORDER = list(GROUPS)


def at_least(role: Role, minimum: Role) -> bool:
    """Whether ``role`` has every right of ``minimum`` (the roles form a chain)."""
    return _ORDER.index(role) >= _ORDER.index(minimum)


@dataclass(frozen=True)
class TableRights:
    """Who may do what with one table: the lowest role for each privilege (None: nobody).

    ``limited_update`` gives a lower role UPDATE on every column but the ones named (column
    privileges), e.g. agents may not change who wrote a history entry or what kind it is;
    ``update_columns`` gives a lower role UPDATE on only the columns named (an agent's ticket
    in a round-robin queue moves the queue's ``last_assigned_id`` on, and locks the queue row
    while it chooses, which needs UPDATE on a column).
    ``audit``/``notify`` attach the audit and change-notification triggers of migration 0005;
    ``row_key`` is the column the audit log records as the row's id; ``noun`` is how a refusal
    names the table ("Your role (agent) may not delete *contacts*.").
    """

    noun: str
    select: Role | None = Role.AGENT
    insert: Role | None = Role.ADMIN
    update: Role | None = Role.ADMIN
    delete: Role | None = Role.ADMIN
    limited_update: tuple[Role, tuple[str, ...]] | None = None
    update_columns: tuple[Role, tuple[str, ...]] | None = None
    audit: bool = False
    notify: bool = False
    row_key: str = "id"


def _records(noun: str, **kw: Any) -> TableRights:
    """Customer records: agents read, the back office edits, imports and deletes."""
    return TableRights(
        noun,
        insert=Role.BACKOFFICE,
        update=Role.BACKOFFICE,
        delete=Role.BACKOFFICE,
        audit=True,
        **kw,
    )


A, B, S, ADM = Role.AGENT, Role.BACKOFFICE, Role.SUPERVISOR, Role.ADMIN

TABLE_RIGHTS: dict[str, TableRights] = {
    # customer records
    "contact": _records("contacts", notify=True),
    "organization": _records("organizations", notify=True),
    "organization_domain": _records("mail domains of organizations"),
    "phone_number": _records("phone numbers"),
    "email_address": _records("e-mail addresses"),
    "tag": _records("tags"),
    "contact_tag": _records("tags of contacts", row_key="contact_id"),
    "organization_tag": _records("tags of organizations", row_key="organization_id"),
    # history: everybody logs calls, mails and notes; notes are changed only by their author
    # (row-level security below); deleting history is for admins
    "interaction": TableRights(
        "history entries",
        insert=A,
        update=B,
        delete=ADM,
        limited_update=(A, ("kind", "user_id")),
        audit=True,
        notify=True,
    ),
    "caller_pick": TableRights("caller picks", insert=A, update=A, delete=B),
    # tickets: agents create and work them; handing one to someone else is for supervisors
    # (trigger below); queues are for supervisors
    "ticket": TableRights("tickets", insert=A, update=A, delete=S, audit=True, notify=True),
    "queue": TableRights(
        "queues",
        insert=S,
        update=S,
        delete=S,
        update_columns=(A, ("last_assigned_id", "version", "updated_at")),
        audit=True,
    ),
    # people and the database itself
    "user_account": TableRights("users", audit=True),
    "app_meta": TableRights("database settings"),
    "audit_log": TableRights("the audit log", select=ADM, insert=None, update=None, delete=None),
    # Tables of the mail (issue 5) and ticket (issue 7) branches; skipped while they do not
    # exist. The lead reviews these when merging.
    "mail_message": TableRights("stored mails", insert=A, update=A, delete=B),
    "mail_folder_state": TableRights("mail folder states", insert=A, update=A, delete=B),
    "mail_unassigned": TableRights("unassigned mails", insert=A, update=A, delete=B, audit=True),
    "mail_skip": TableRights("skipped mails", insert=A, update=A, delete=B),
    "queue_business_hours": TableRights("business hours", insert=S, update=S, delete=S),
    "queue_closed_day": TableRights("closed days", insert=S, update=S, delete=S),
    "queue_sla_target": TableRights("SLA targets", insert=S, update=S, delete=S, audit=True),
    "queue_member": TableRights("queue members", insert=S, update=S, delete=S, audit=True),
    "agent_presence": TableRights("presence", insert=A, update=A, delete=S),
    "ticket_change": TableRights("ticket changes", insert=A, update=None, delete=ADM),
    "ticket_notification": TableRights("ticket notifications", insert=A, update=A, delete=S),
    "escalation_rule": TableRights("escalation rules", insert=S, update=S, delete=S, audit=True),
    "ticket_message": TableRights("ticket messages", insert=A, update=A, delete=S, audit=True),
}

#: Unknown tables (added by a later migration without an entry here): read for all, write admin.
DEFAULT_RIGHTS = TableRights("records")

_VERBS = {"INSERT": "add", "UPDATE": "change", "DELETE": "delete", "SELECT": "read"}

#: What a row-level policy refusal means, per table (the server only says "policy").
_POLICY_REFUSALS = {
    "interaction": "write or change notes in someone else's name",
}


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name


# --- the role of the connected user ---------------------------------------------------------

_ROLE_SQL = (
    "SELECT r.rolname FROM pg_roles r "
    "WHERE r.rolname IN ('crm_agent', 'crm_backoffice', 'crm_supervisor', 'crm_admin') "
    "AND pg_has_role(current_user, r.oid, 'MEMBER')"
)
_BY_GROUP = {group: role for role, group in GROUPS.items()}


def _role_from(groups: Iterable[str]) -> Role:
    held = [_BY_GROUP[g] for g in groups if g in _BY_GROUP]
    if not held:
        # not a team login: SQLite's single user, a database without roles, or the owner who
        # ran `db init`; whatever they may not do, the server still refuses
        return Role.ADMIN
    return max(held, key=_ORDER.index)


def current_role(session: Session) -> Role:
    """The connected user's role, as the server sees it (SQLite: admin, one user owns the file)."""
    if session.get_bind().dialect.name == "sqlite":
        return Role.ADMIN
    return _role_from(session.scalars(text(_ROLE_SQL)))


def current_user(session: Session) -> User:
    """The person at this client: on PostgreSQL the user row of the login (``current_user``);
    on a SQLite file (one person, no logins) a local user named after the system account,
    created on first use. Tickets are assigned to it and "My tickets" lists its own."""
    if session.get_bind().dialect.name != "sqlite":
        login = session.scalar(text("SELECT current_user"))
        user = session.scalar(select(User).where(User.login == login))
        if user is None:
            raise NotFound(
                f"the database login {login!r} has no CRM user; an administrator adds it with "
                f"desktop-crm user add {login} --role agent"
            )
        return user
    login = _local_login()
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        user = User(login=login, name=login, role=Role.ADMIN)
        session.add(user)
        session.flush()
    return user


def _local_login() -> str:
    import getpass

    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "local"
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] or "local"
    return cleaned


def _connection_role(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_ROLE_SQL)
        connection_record.info["crm_role"] = _role_from(row[0] for row in cursor.fetchall())
    finally:
        cursor.close()
        dbapi_connection.rollback()


def refusal_message(role: Role | None, statement: str, error: Any) -> str:
    """The sentence for a statement the server refused (SQLSTATE 42501)."""
    diag = getattr(error, "diag", None)
    primary = (getattr(diag, "message_primary", None) or str(error)).strip()
    table = getattr(diag, "table_name", None)
    if not table and (found := re.search(r'(?:table|relation) "?([a-z_][a-z0-9_]*)', primary)):
        table = found.group(1)
    rights = TABLE_RIGHTS.get(table or "")
    noun = rights.noun if rights else (table or "these records").replace("_", " ")
    who = f"Your role ({role.value})" if role else "Your role"
    if primary.startswith("may not "):  # raised by our triggers, already in words
        return f"{who} {primary}."
    if "row-level security" in primary:
        what = _POLICY_REFUSALS.get(table or "", f"make this change to {noun}")
        return f"{who} may not {what}."
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    if verb == "WITH":
        verb = next((v for v in _VERBS if v in statement.upper()), "")
    if verb not in _VERBS:  # DDL, GRANT, ...: the server's own words say most
        return f"{who} may not do this: {primary}."
    return f"{who} may not {_VERBS[verb]} {noun}."


def _on_error(context: ExceptionContext) -> None:
    orig = context.original_exception
    if getattr(orig, "sqlstate", None) != "42501":
        return
    role = None
    if context.connection is not None:
        role = context.connection.info.get("crm_role")
    raise PermissionDenied(refusal_message(role, context.statement or "", orig), role=role) from (
        context.sqlalchemy_exception or orig
    )


def watch_permissions(engine: Engine) -> None:
    """Learn each connection's role when it opens; turn refusals into PermissionDenied."""
    event.listen(engine, "connect", _connection_role)
    event.listen(engine, "handle_error", _on_error)


# --- roles and grants ------------------------------------------------------------------------

_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION crm_user_id() RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT id FROM user_account WHERE login = current_user
$$;

CREATE OR REPLACE FUNCTION crm_may(group_role text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    -- logins outside the team roles (the owner who ran `db init`) are not restricted here
    SELECT NOT EXISTS (
               SELECT 1 FROM pg_roles r
                WHERE r.rolname = 'crm_agent' AND pg_has_role(current_user, r.oid, 'MEMBER'))
        OR EXISTS (
               SELECT 1 FROM pg_roles r
                WHERE r.rolname = group_role AND pg_has_role(current_user, r.oid, 'MEMBER'))
$$;

-- a note is signed by the user who writes it (the author rule below depends on it)
CREATE OR REPLACE FUNCTION crm_sign_note() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF NEW.kind = 'note' AND NEW.user_id IS NULL THEN
        NEW.user_id := crm_user_id();
    END IF;
    RETURN NEW;
END $$;

-- taking a ticket or giving one's own back is for everybody; assigning to others is not
-- (except the queue's automatic assignment of a new ticket to one of its members)
CREATE OR REPLACE FUNCTION crm_guard_ticket_assignment() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    me integer;
    before integer;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        before := OLD.assignee_id;
        IF NEW.assignee_id IS NOT DISTINCT FROM before THEN
            RETURN NEW;
        END IF;
    END IF;
    IF crm_may('crm_supervisor') THEN
        RETURN NEW;
    END IF;
    -- the queue's own round-robin or least-busy choice of an unassigned ticket, among its
    -- members, is not a person handing work to a colleague
    IF before IS NULL AND NEW.queue_id IS NOT NULL AND NEW.assignee_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM queue q
        JOIN queue_member m ON m.queue_id = q.id AND m.user_id = NEW.assignee_id
        WHERE q.id = NEW.queue_id AND q.assignment_mode <> 'manual'
    ) THEN
        RETURN NEW;
    END IF;
    me := crm_user_id();
    IF (NEW.assignee_id IS NULL OR NEW.assignee_id = me)
       AND (before IS NULL OR before = me) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'may not assign tickets to other people'
        USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
END $$;
"""

_TRIGGERS_SQL = """
CREATE OR REPLACE TRIGGER crm_sign_note BEFORE INSERT ON interaction
    FOR EACH ROW EXECUTE FUNCTION crm_sign_note();
CREATE OR REPLACE TRIGGER crm_guard_ticket_assignment BEFORE INSERT OR UPDATE ON ticket
    FOR EACH ROW EXECUTE FUNCTION crm_guard_ticket_assignment();
"""

_POLICIES_SQL = """
ALTER TABLE interaction ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS crm_read ON interaction;
DROP POLICY IF EXISTS crm_agent_insert ON interaction;
DROP POLICY IF EXISTS crm_agent_update ON interaction;
DROP POLICY IF EXISTS crm_backoffice_write ON interaction;
CREATE POLICY crm_read ON interaction FOR SELECT TO crm_agent USING (true);
CREATE POLICY crm_agent_insert ON interaction FOR INSERT TO crm_agent
    WITH CHECK (kind <> 'note' OR user_id = crm_user_id());
CREATE POLICY crm_agent_update ON interaction FOR UPDATE TO crm_agent
    USING (true) WITH CHECK (kind <> 'note' OR user_id = crm_user_id());
CREATE POLICY crm_backoffice_write ON interaction FOR ALL TO crm_backoffice
    USING (true) WITH CHECK (true);
"""

_AUDIT_FUNCTION = "crm_audit"
_NOTIFY_FUNCTION = "crm_notify_change"


@dataclass(frozen=True)
class SetupReport:
    created_roles: tuple[str, ...]
    tables: tuple[str, ...]
    defaulted: tuple[str, ...]  # tables not in TABLE_RIGHTS: read for all, write for admins

    def summary(self) -> str:
        made = ", ".join(self.created_roles) if self.created_roles else "none (all present)"
        text_ = f"roles created: {made}; rights granted on {len(self.tables)} tables"
        if self.defaulted:
            names = ", ".join(self.defaulted)
            text_ += f" ({len(self.defaulted)} with the default rights: {names})"
        return text_


def _exec(conn: Connection, sql: str) -> None:
    conn.exec_driver_sql(sql)


def _column_names(conn: Connection, table: str) -> list[str]:
    return list(
        conn.scalars(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = :t "
                "ORDER BY ordinal_position"
            ),
            {"t": table},
        )
    )


def team_is_set_up(conn: Connection) -> bool:
    """Whether the group roles exist (the cluster has had `db init`)."""
    return bool(conn.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = 'crm_agent'")))


def apply_team_setup(conn: Connection) -> SetupReport:
    """Create the group roles (once per server) and grant this database's rights (every time).

    Run by the database owner (or a superuser) in one transaction; safe to run again.
    """
    if conn.dialect.name != "postgresql":
        raise DataError("Roles need the shared PostgreSQL database; a SQLite file has one user.")
    existing = set(conn.scalars(text("SELECT rolname FROM pg_roles WHERE rolname LIKE 'crm\\_%'")))
    me, superuser, createrole = conn.execute(
        text("SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    ).one()
    if not superuser:
        if not createrole and set(GROUPS.values()) - existing:
            raise DataError(
                f"The login {me} may not create roles: run `desktop-crm db init` as a superuser "
                "or as the database owner with CREATEROLE (see docs/deployment.md)."
            )
        foreign = conn.scalar(
            text(
                "SELECT min(tablename) FROM pg_tables WHERE schemaname = current_schema() "
                "AND NOT pg_has_role(current_user, tableowner, 'MEMBER')"
            )
        )
        if foreign:
            raise DataError(
                f"The login {me} does not own the table {foreign}: run `desktop-crm db init` as "
                "the role that owns the database's tables (the one that ran the migrations)."
            )
    created: list[str] = []
    for group in GROUPS.values():
        if group not in existing:
            _exec(conn, f"CREATE ROLE {group} NOLOGIN")
            created.append(group)
    chain = list(GROUPS.values())
    members = {
        (str(group), str(member))
        for group, member in conn.execute(
            text(
                "SELECT g.rolname, m.rolname FROM pg_auth_members a "
                "JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member"
            )
        )
    }
    for lower, higher in itertools.pairwise(chain):
        if (lower, higher) not in members:
            _exec(conn, f"GRANT {lower} TO {higher}")
    everybody = ", ".join(chain)
    database = conn.scalar(text("SELECT current_database()"))
    _exec(conn, f'REVOKE CONNECT, TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
    _exec(conn, f'GRANT CONNECT ON DATABASE "{database}" TO crm_agent')
    _exec(conn, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    _exec(conn, "GRANT USAGE ON SCHEMA public TO crm_agent")
    _exec(conn, f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {everybody}")
    _exec(conn, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO crm_agent")
    tables = sorted(
        conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "ORDER BY tablename"
            )
        )
    )
    defaulted: list[str] = []
    for table in tables:
        rights = TABLE_RIGHTS.get(table)
        if rights is None:
            rights = DEFAULT_RIGHTS
            defaulted.append(table)
        _grant(conn, table, rights)
    present = set(tables)
    if {"interaction", "user_account", "ticket"} <= present:
        _exec(conn, _FUNCTIONS_SQL)
        _exec(conn, _TRIGGERS_SQL)
        _exec(conn, _POLICIES_SQL)
    _attach_triggers(conn, present)
    return SetupReport(tuple(created), tuple(tables), tuple(defaulted))


def _grant(conn: Connection, table: str, rights: TableRights) -> None:
    name = _ident(table)
    for privilege in ("select", "insert", "update", "delete"):
        role = getattr(rights, privilege)
        if role is not None:
            _exec(conn, f"GRANT {privilege.upper()} ON {name} TO {GROUPS[role]}")
    if rights.limited_update is not None:
        role, excluded = rights.limited_update
        columns = [c for c in _column_names(conn, table) if c not in excluded]
        if columns:
            cols = ", ".join(_ident(c) for c in columns)
            _exec(conn, f"GRANT UPDATE ({cols}) ON {name} TO {GROUPS[role]}")
    if rights.update_columns is not None:
        role, only = rights.update_columns
        cols = ", ".join(_ident(c) for c in only)
        _exec(conn, f"GRANT UPDATE ({cols}) ON {name} TO {GROUPS[role]}")


def _function_exists(conn: Connection, name: str) -> bool:
    return bool(conn.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = :n"), {"n": name}))


def _attach_triggers(conn: Connection, present: set[str]) -> None:
    """Audit and notify triggers for every table the mapping flags (those of 0005 included)."""
    audit = _function_exists(conn, _AUDIT_FUNCTION)
    notify = _function_exists(conn, _NOTIFY_FUNCTION)
    for table, rights in TABLE_RIGHTS.items():
        if table not in present:
            continue
        if rights.audit and audit:
            _exec(
                conn,
                f"CREATE OR REPLACE TRIGGER crm_audit AFTER INSERT OR UPDATE OR DELETE ON "
                f"{_ident(table)} FOR EACH ROW "
                f"EXECUTE FUNCTION crm_audit('{_ident(rights.row_key)}')",
            )
        if rights.notify and notify:
            _exec(
                conn,
                f"CREATE OR REPLACE TRIGGER crm_notify_change AFTER INSERT OR UPDATE OR DELETE ON "
                f"{_ident(table)} FOR EACH ROW EXECUTE FUNCTION crm_notify_change()",
            )


# --- users -------------------------------------------------------------------------------------

_LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,62}")
MIN_PASSWORD = 8


def check_login(login: str) -> str:
    if not _LOGIN.fullmatch(login) or login.startswith(("crm_", "pg_")):
        raise ValidationError(
            f"{login!r} cannot be a login: use lower-case letters, digits, '_', '.' or '-' "
            "(at most 63, starting with a letter; not crm_… or pg_…)",
            field="login",
        )
    return login


def _need_postgres(session: Session) -> Any:
    """The psycopg connection under ``session`` (users and roles exist only on PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        raise DataError(
            "User accounts with roles need the shared PostgreSQL database; this database is a "
            "SQLite file, which has one user who may do everything."
        )
    if not team_is_set_up(session.connection()):
        raise DataError(
            "This database has no team roles yet: run `desktop-crm db init` as its owner first."
        )
    return session.connection().connection.driver_connection


def _password_clause(driver: Any, login: str, password: str) -> Any:
    """``PASSWORD '<SCRAM verifier>'``: the password is hashed here, never sent in clear."""
    from psycopg import sql

    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"the password needs at least {MIN_PASSWORD} characters", field="password"
        )
    verifier = driver.pgconn.encrypt_password(
        password.encode("utf-8"), login.encode("utf-8"), b"scram-sha-256"
    ).decode("ascii")
    return sql.SQL("PASSWORD {}").format(sql.Literal(verifier))


def _role_attrs(role: Role) -> str:
    return "CREATEROLE" if role is Role.ADMIN else "NOCREATEROLE"


def add_user(
    session: Session, login: str, role: Role, password: str, *, name: str = "", **extra: Any
) -> User:
    """Create the LOGIN role (member of the role's group) and its ``user_account`` row."""
    from psycopg import sql

    driver = _need_postgres(session)
    check_login(login)
    if session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": login}):
        raise ValidationError(f"a database login {login!r} exists already", field="login")
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise ValidationError(f"a user {login!r} exists already", field="login")
    driver.execute(
        sql.SQL("CREATE ROLE {} LOGIN {} {} IN ROLE {}").format(
            sql.Identifier(login),
            sql.SQL(_role_attrs(role)),
            _password_clause(driver, login, password),
            sql.Identifier(GROUPS[role]),
        )
    )
    user = User(login=login, name=name, role=role, active=True, **extra)
    session.add(user)
    session.flush()
    return user


def _user(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFound(f"there is no user {login!r} (desktop-crm user list shows them)")
    return user


def set_role(session: Session, login: str, role: Role) -> User:
    from psycopg import sql

    driver = _need_postgres(session)
    user = _user(session, login)
    ident = sql.Identifier(login)
    for group in GROUPS.values():
        driver.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), ident))
    driver.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(GROUPS[role]), ident))
    driver.execute(sql.SQL("ALTER ROLE {} {}").format(ident, sql.SQL(_role_attrs(role))))
    user.role = role
    session.flush()
    return user


def set_active(session: Session, login: str, active: bool) -> User:
    """Disable (NOLOGIN, inactive) or enable a user; their history stays theirs."""
    from psycopg import sql

    driver = _need_postgres(session)
    user = _user(session, login)
    attr = "LOGIN" if active else "NOLOGIN"
    driver.execute(sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(login), sql.SQL(attr)))
    user.active = active
    session.flush()
    return user


def end_sessions(session: Session, login: str) -> tuple[int, int]:
    """End ``login``'s open connections to this database (after :func:`set_active` committed).

    Returns (ended, refused): the server lets only a superuser, a member of ``login``'s role or
    a holder of ``pg_signal_backend`` end another role's connections; each attempt runs in a
    savepoint, so a refusal changes nothing else.
    """
    driver = _need_postgres(session)
    pids = [
        int(pid)
        for (pid,) in driver.execute(
            "SELECT pid FROM pg_stat_activity WHERE usename = %s"
            " AND datname = current_database() AND pid <> pg_backend_pid()",
            (login,),
        ).fetchall()
    ]
    from psycopg.errors import InsufficientPrivilege

    ended = refused = 0
    for pid in pids:
        try:
            with session.begin_nested():
                done = driver.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        except InsufficientPrivilege:
            refused += 1
            continue
        if done and done[0]:
            ended += 1
    return ended, refused


def set_password(session: Session, login: str, password: str) -> None:
    from psycopg import sql

    driver = _need_postgres(session)
    _user(session, login)
    driver.execute(
        sql.SQL("ALTER ROLE {} {}").format(
            sql.Identifier(login), _password_clause(driver, login, password)
        )
    )


@dataclass(frozen=True)
class UserRow:
    login: str
    name: str
    role: Role  # as recorded in user_account
    server_role: Role | None  # as the server's memberships say (None: no login role)
    active: bool
    can_login: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "name": self.name,
            "role": self.role.value,
            "server_role": self.server_role.value if self.server_role else None,
            "active": self.active,
            "can_login": self.can_login,
        }


def list_users(session: Session) -> list[UserRow]:
    _need_postgres(session)
    rows = session.execute(
        text(
            "SELECT u.login, u.name, u.role, u.active, r.rolcanlogin, "
            "  ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "        WHERE m.member = r.oid AND g.rolname LIKE 'crm\\_%') "
            "FROM user_account u LEFT JOIN pg_roles r ON r.rolname = u.login ORDER BY u.login"
        )
    )
    out = []
    for login, name, role, active, can_login, groups in rows:
        held = [_BY_GROUP[g] for g in groups or () if g in _BY_GROUP]
        out.append(
            UserRow(
                login=login,
                name=name,
                role=Role(role),
                server_role=max(held, key=_ORDER.index) if held else None,
                active=bool(active),
                can_login=bool(can_login),
            )
        )
    return out
