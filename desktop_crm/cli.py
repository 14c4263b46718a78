"""The ``desktop-crm`` command: the composition root for everything but the GUI's insides.

The command line is a contract users' scripts rely on; keep subcommands and options stable.
Every failure ends in one clear line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .data.db import Database, display_url, parse_url, resolve_url, with_password
from .data.errors import DataError
from .data.models import Role
from .secrets import SecretError, get_secret, set_secret
from .settings import SECTIONS, Settings, SettingsError, default_data_dir, describe, load_settings

log = logging.getLogger("desktop_crm")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure to report as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, not the whole usage text
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--database",
        metavar="URL",
        default=default,
        help="database URL (sqlite:///path/crm.db or postgresql://user@host/db); "
        "also DESKTOP_CRM_DATABASE_URL; default: a SQLite file in your data folder",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="settings file (also DESKTOP_CRM_CONFIG); "
        "default: desktop-crm.toml in your config folder",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="desktop-crm",
        description="Desktop CRM: contacts, history, caller pop-up. Without a command the "
        "desktop client starts.",
    )
    parser.add_argument("--version", action="version", version=f"desktop_crm {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        _global_options(p, suppress=True)
        p.set_defaults(func=func)
        return p

    command("gui", cmd_gui, "start the desktop client (the default)")

    p = command("demo", cmd_demo, "fill the database with realistic German demo data (idempotent)")
    p.add_argument("--contacts", type=int, default=250, metavar="N", help="how many contacts")
    p.add_argument("--seed", type=int, default=2026, metavar="S", help="random seed (same data)")

    p = command("db", cmd_db, "apply or show schema migrations; set up a team database")
    p.add_argument(
        "action",
        choices=["upgrade", "current", "init"],
        help="upgrade: migrate to this version; init: schema plus team roles (PostgreSQL)",
    )

    p = command("user", cmd_user, "manage the users of a team database (PostgreSQL, admins)")
    p.add_argument("action", choices=["add", "set-role", "disable", "enable", "password", "list"])
    p.add_argument("login", nargs="?", metavar="LOGIN", help="the user's database login")
    p.add_argument("--role", choices=[r.value for r in Role], help="agent, backoffice, ...")
    p.add_argument("--name", default="", help="the user's full name (add)")
    p.add_argument("--extension", help="the user's phone extension (add)")
    p.add_argument("--email", help="the user's e-mail address (add)")
    p.add_argument("--json", action="store_true", help="print JSON (list)")

    p = command("audit", cmd_audit, "show who changed what (team database, admins)")
    p.add_argument("--table", metavar="T", help="only this table (contact, ticket, ...)")
    p.add_argument("--id", type=int, metavar="N", help="only this record id")
    p.add_argument("--user", metavar="LOGIN", help="only changes by this login")
    p.add_argument("--since", metavar="WHEN", help="2h, 7d or an ISO date/time")
    p.add_argument("--limit", type=int, default=100, metavar="N")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = command("import", cmd_import, "import vCard (2.1, 3.0, 4.0) and CSV (Outlook, Google, own)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")

    p = command("export", cmd_export, "export all contacts")
    p.add_argument("--format", required=True, choices=["csv", "vcard", "json"])
    p.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")

    p = command("history", cmd_history, "show the history of a phone number, e-mail or contact id")
    p.add_argument("value", metavar="VALUE", help="phone number, e-mail address or contact id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="entries per record")

    p = command("lookup", cmd_lookup, "who is this number or address? (ranked matches and why)")
    p.add_argument("value", metavar="VALUE", help="caller ID, phone number or e-mail address")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("tickets", cmd_tickets, "list tickets with their SLA state; add queues and tickets")
    p.add_argument("--queue", metavar="Q", help="only this queue (name or id)")
    p.add_argument(
        "--status",
        metavar="S",
        help="only this status (new, open, waiting_customer, waiting_third_party, resolved, "
        "closed); default: every open ticket",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=int, default=1000, metavar="N", help="at most N tickets")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    a = actions.add_parser("new", help="open a ticket")
    _global_options(a, suppress=True)
    a.add_argument("subject")
    a.add_argument("--queue", dest="new_queue", metavar="Q", help="queue name or id")
    a.add_argument("--priority", default="normal", choices=["low", "normal", "high", "urgent"])
    a.add_argument("--contact", type=int, metavar="ID")
    a.add_argument("--organization", type=int, metavar="ID")
    a.add_argument("--description", default="")
    a.add_argument("--json", dest="new_json", action="store_true", help="print JSON")
    a = actions.add_parser("queue", help="create a queue or change its SLA settings")
    _global_options(a, suppress=True)
    a.add_argument("queue_action", choices=["add"])
    a.add_argument("name")
    a.add_argument("--time-zone", default="Europe/Berlin")
    a.add_argument("--holidays", default="DE", help="DE, DE-BY (a state), AT, CH, CH-ZH")
    a.add_argument("--hours", help='e.g. "mo-fr 08:00-17:00; sa 09:00-12:00"')
    a.add_argument(
        "--sla",
        action="append",
        default=[],
        metavar="PRIORITY=FIRST/RESOLUTION",
        help="business time per priority, e.g. urgent=1h/4h (repeatable)",
    )
    a.add_argument("--at-risk", type=int, default=75, metavar="PERCENT")
    a.add_argument(
        "--assignment", default="manual", choices=["manual", "round_robin", "least_busy"]
    )
    a.add_argument("--members", metavar="LOGIN,…", help="the agents who work the queue")
    a.add_argument("--supervisor", metavar="LOGIN", help="who is notified on escalation")
    a.add_argument("--email", metavar="ADDRESS", help="the queue's support mailbox")
    a = actions.add_parser(
        "recompute", help="recompute the stored due times of every open ticket (after an import)"
    )
    _global_options(a, suppress=True)
    a = actions.add_parser("escalate", help="notify at-risk and breached tickets (once each)")
    _global_options(a, suppress=True)
    a.add_argument("--json", dest="escalate_json", action="store_true", help="print JSON")

    p = command(
        "listen",
        cmd_listen,
        "run the call sources and mail accounts headless, identify callers and senders, log "
        "every call and mail",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    p.add_argument(
        "--simulate",
        nargs="?",
        const="",
        metavar="SCENARIO",
        help="also play simulated calls (a scenario file; without one the built-in demo calls)",
    )
    p.add_argument("--speed", type=float, default=1.0, help="time factor for --simulate")

    p = command("simulate-call", cmd_simulate_call, "send a real SIP call to a running listener")
    p.add_argument("number", metavar="NUMBER", help="the caller's number as the PBX delivers it")
    p.add_argument("--name", help="the caller's display name")
    p.add_argument(
        "--to", metavar="sip:USER@HOST:PORT", help="default: the first [[sip]] table's bind"
    )
    p.add_argument("--ring-seconds", type=float, default=3.0, metavar="N")
    p.add_argument(
        "--answer",
        action="store_true",
        help="end as answered elsewhere (CANCEL with cause 200) instead of missed",
    )
    p.add_argument("--transport", choices=["udp", "tcp"], default=None)

    p = command("mail", cmd_mail, "the unassigned-mail list: show it, assign or dismiss a mail")
    p.add_argument("action", choices=["unassigned", "assign", "dismiss"])
    p.add_argument("id", nargs="?", type=int, metavar="ID", help="the unassigned mail's id")
    p.add_argument("--contact", type=int, metavar="N", help="assign: to this contact id")
    p.add_argument("--organization", type=int, metavar="N", help="assign: to this organization")
    p.add_argument("--all", action="store_true", help="unassigned: also assigned and dismissed")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("config", cmd_config, "show the effective settings or the settings file's path")
    p.add_argument("action", choices=["show", "path", "keys"])

    p = command("secret", cmd_secret, "store a password in the system keyring")
    p.add_argument("action", choices=["set"])
    p.add_argument("name", metavar="NAME", help="the keyring entry a setting names")
    return parser


# --- shared wiring ------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def open_database(
    args: argparse.Namespace, settings: Settings, *, ensure_schema: bool = True
) -> tuple[Database, bool]:
    """Open the database in use; with ``ensure_schema``, refuse an unknown schema."""
    url, is_default = resolve_url(args.database, settings.get("database.url"), default_data_dir())
    parsed = parse_url(url)
    secret_name = settings.get("database.secret")
    if secret_name and parsed.password is None and parsed.get_backend_name() != "sqlite":
        parsed = with_password(parsed, get_secret(secret_name))
    db = Database(parsed)
    log.info("database: %s", display_url(parsed))
    if ensure_schema:
        db.ensure_schema(create_if_empty=True)
    return db, is_default


def home_region(settings: Settings) -> str:
    return str(settings.get("dialing.country"))


def _out(path: Path | None) -> TextIO:
    if path is None:
        return sys.stdout
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from exc


# --- commands -----------------------------------------------------------------------------------


def cmd_gui(args: argparse.Namespace) -> int:
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
        and not os.environ.get("QT_QPA_PLATFORM")
    ):
        raise CommandError(
            "no display found (DISPLAY is not set): start the desktop client in a desktop "
            "session, or use the command-line commands (desktop-crm --help)"
        )
    settings = _settings(args)
    db, is_default = open_database(args, settings)
    from .app import run_gui  # Qt is loaded only for the desktop client

    try:
        return run_gui(db, settings, is_default_database=is_default)
    finally:
        db.dispose()


def cmd_demo(args: argparse.Namespace) -> int:
    from .data.demo import seed_demo

    if args.contacts < 0:
        raise CommandError("--contacts must be 0 or more")
    db, _ = open_database(args, _settings(args))

    def progress(done: int, total: int) -> None:
        if total >= 10_000 and sys.stderr.isatty():
            print(f"\r{done:,} of {total:,} contacts", end="", file=sys.stderr, flush=True)

    try:
        summary = seed_demo(db, contacts=args.contacts, seed=args.seed, progress=progress)
    finally:
        db.dispose()
    if args.contacts >= 10_000 and sys.stderr.isatty():
        print(file=sys.stderr)
    if summary.already_present:
        print(f"Demo data is already in {db.display_url}; nothing added.")
    else:
        print(
            f"Demo data added to {db.display_url}: {summary.organizations} organizations, "
            f"{summary.contacts} contacts, {summary.interactions} history entries, "
            f"{summary.tickets} tickets."
        )
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    db, _ = open_database(args, _settings(args), ensure_schema=False)
    try:
        before = db.schema_state()
        if args.action == "current":
            status = "up to date" if before.up_to_date else f"needs upgrade to {before.head}"
            if before.current is None:
                status = "empty (no schema yet)" if before.empty else "not a desktop_crm database"
            print(f"{db.display_url}: schema {before.current or '-'} ({status})")
            return EXIT_OK
        if before.current is None and not before.empty:
            raise CommandError(db._schema_message(before))
        if before.up_to_date:
            print(f"{db.display_url}: schema {before.current} is up to date.")
        else:
            db.upgrade()
            after = db.schema_state()
            previous = before.current or "empty"
            print(f"{db.display_url}: schema upgraded from {previous} to {after.current}.")
        _team_setup(db, init=args.action == "init")
        return EXIT_OK
    finally:
        db.dispose()


def _team_setup(db: Database, *, init: bool) -> None:
    """Roles and rights: always on `db init`, after an upgrade where the roles exist."""
    from .data.team import apply_team_setup, team_is_set_up

    if db.is_sqlite:
        if init:
            print(
                "A SQLite file has one user who may do everything; team roles need the shared "
                "PostgreSQL database (see docs/deployment.md)."
            )
        return
    with db.engine.begin() as conn:
        if not init and not team_is_set_up(conn):
            return
        report = apply_team_setup(conn)
    print(f"{db.display_url}: team roles set up: {report.summary()}.")


def _read_password(prompt: str) -> str:
    """From the terminal without echo, or the first line of stdin when piped; never logged."""
    if sys.stdin.isatty():
        value = getpass.getpass(prompt)
        if value and getpass.getpass("Once more: ") != value:
            raise CommandError("the two passwords differ; nothing changed")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CommandError("no password given; nothing changed")
    return value


def cmd_user(args: argparse.Namespace) -> int:
    from .data import team

    if args.action != "list" and not args.login:
        raise CommandError(f"user {args.action} needs a LOGIN")
    if args.action in ("add", "set-role") and not args.role:
        raise CommandError(f"user {args.action} needs --role agent|backoffice|supervisor|admin")
    db, _ = open_database(args, _settings(args))
    try:
        if db.is_sqlite:
            raise CommandError(
                "users and roles need the shared PostgreSQL database; this database "
                f"({db.display_url}) is a SQLite file with one user who may do everything"
            )
        if args.action == "list":
            with db.session() as session:
                rows = team.list_users(session)
            for row in rows:
                if args.json:
                    print(json.dumps(row.to_json(), ensure_ascii=False))
                    continue
                state = "active" if row.active and row.can_login else "disabled"
                drift = ""
                if row.server_role is not row.role:
                    server = row.server_role.value if row.server_role else "none"
                    drift = f" (server role: {server})"
                print(f"{row.login:<20} {row.role.value:<11} {state:<9} {row.name}{drift}")
            return EXIT_OK
        login = team.check_login(args.login)
        if args.action == "add":
            team.check_login(login)
            password = _read_password(f"Initial password for {login}: ")
            extra = {"phone_extension": args.extension, "email": args.email}
            with db.session() as session:
                team.add_user(session, login, Role(args.role), password, name=args.name, **extra)
            print(f"User {login} added as {args.role}.")
        elif args.action == "password":
            password = _read_password(f"New password for {login}: ")
            with db.session() as session:
                team.set_password(session, login, password)
            print(f"Password of {login} changed.")
        elif args.action == "set-role":
            with db.session() as session:
                team.set_role(session, login, Role(args.role))
            print(f"User {login} is now {args.role} (from their next connection on).")
        else:
            active = args.action == "enable"
            with db.session() as session:
                team.set_active(session, login, active)
            if active:
                print(f"User {login} may log in again.")
            else:
                # committed first: a client reconnecting now is refused
                with db.session() as session:
                    ended, refused = team.end_sessions(session, login)
                print(f"User {login} is disabled: no new connections; their history stays.")
                if ended:
                    print(f"{ended} open connection(s) of {login} ended.")
                if refused:
                    print(
                        f"{refused} open connection(s) of {login} could not be ended: only the "
                        "database owner (a superuser) or a role with pg_signal_backend may; "
                        "they end when the client closes them."
                    )
        return EXIT_OK
    finally:
        db.dispose()


def cmd_audit(args: argparse.Namespace) -> int:
    from .data.audit import audit_entries, parse_since

    since = parse_since(args.since) if args.since else None
    db, _ = open_database(args, _settings(args))
    try:
        if db.is_sqlite:
            raise CommandError(
                "the audit log is written by the shared PostgreSQL database; a SQLite file "
                "has one user and keeps none"
            )
        with db.session() as session:
            entries = audit_entries(
                session,
                table=args.table,
                row_id=args.id,
                since=since,
                actor=args.user,
                limit=args.limit,
            )
    finally:
        db.dispose()
    for entry in entries:
        if args.json:
            print(json.dumps(entry.to_json(), ensure_ascii=False, default=str))
        else:
            print(entry.describe())
    if not entries and not args.json:
        print("No audit entries match.")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from .data.importing import import_file

    settings = _settings(args)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        raise CommandError(f"file not found: {', '.join(missing)}")
    db, _ = open_database(args, settings)
    worst = EXIT_OK
    try:
        for path in args.files:
            try:
                report = import_file(db, path, home_region=home_region(settings))
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
            print(report.summary())
            for problem in report.problems:
                raw = f" ({problem.raw!r})" if problem.raw else ""
                print(f"  {path}:{problem.line}: {problem.reason}{raw}", file=sys.stderr)
            if report.problems_not_listed:
                print(f"  … and {report.problems_not_listed} more problems", file=sys.stderr)
            if report.problems:
                worst = EXIT_ERROR
    finally:
        db.dispose()
    return worst


def cmd_export(args: argparse.Namespace) -> int:
    from .data.exporting import export_contacts

    db, _ = open_database(args, _settings(args))
    try:
        _export_allowed(db)
        out = _out(args.out)
        try:
            count = export_contacts(db, args.format, out)
        finally:
            if out is not sys.stdout:
                out.close()
    finally:
        db.dispose()
    if args.out is not None:
        print(f"{count} contacts written to {args.out}", file=sys.stderr)
    return EXIT_OK


def _export_allowed(db: Database) -> None:
    """Exporting everything is not for agents (issue 8). The server cannot tell an export from
    browsing (both are SELECTs an agent may run), so this one is the client's rule."""
    from .data.team import at_least, current_role

    with db.session() as session:
        role = current_role(session)
    if not at_least(role, Role.BACKOFFICE):
        raise CommandError(f"Your role ({role.value}) may not export all contacts.")


def cmd_history(args: argparse.Namespace) -> int:
    from .data import history as hist
    from .data import records
    from .identify.resolve import RecordKind, resolve
    from .identify.rules import DialingRules

    settings = _settings(args)
    rules = DialingRules.from_settings(settings)
    db, _ = open_database(args, settings)
    value = args.value.strip()
    try:
        with db.session() as session:
            targets: list[tuple[str, int]] = []
            if value.isdigit() and not value.startswith("0") and len(value) <= 9:
                records.get_contact(session, int(value))  # clear error when it does not exist
                targets.append(("contact", int(value)))
            else:  # the same resolution the pop-up uses: best match first
                for match in resolve(session, value, rules).matches:
                    if match.record.kind is RecordKind.CONTACT:
                        targets.append(("contact", match.record.id))
                    elif match.record.kind is RecordKind.ORGANIZATION:
                        targets.append(("organization", match.record.id))
            result: list[dict[str, Any]] = []
            for kind, record_id in dict.fromkeys(targets):
                if kind == "contact":
                    contact = records.get_contact(session, record_id)
                    entries = hist.history(session, contact_id=record_id, limit=args.limit)
                    org = contact.organization
                    rec: dict[str, Any] = {
                        "contact_id": record_id,
                        "organization_id": contact.organization_id,
                        "name": contact.display_name,
                        "organization": org.name if org else "",
                    }
                else:
                    organization = records.get_organization(session, record_id)
                    entries = hist.history(session, organization_id=record_id, limit=args.limit)
                    rec = {
                        "contact_id": None,
                        "organization_id": record_id,
                        "name": organization.name,
                        "organization": organization.name,
                    }
                rec["entries"] = [hist.interaction_dict(e) for e in entries]
                result.append(rec)
    finally:
        db.dispose()
    if args.json:
        json.dump({"query": value, "records": result}, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return EXIT_OK
    if not result:
        print(f"No contact found for {value!r}.")
        return EXIT_OK
    for rec in result:
        if rec["contact_id"] is None:
            print(f"organization #{rec['organization_id']} {rec['name']}")
        else:
            suffix = f" ({rec['organization']})" if rec["organization"] else ""
            print(f"#{rec['contact_id']} {rec['name'] or '(no name)'}{suffix}")
        if not rec["entries"]:
            print("  no history yet")
        for e in rec["entries"]:
            when = e["occurred_at"][:16].replace("T", " ")
            what = " ".join(
                x for x in (e["kind"], e["direction"], e["outcome"]) if x and x != "none"
            )
            print(f"  {when}  {what:<24} {e['subject']}")
    return EXIT_OK


def cmd_lookup(args: argparse.Namespace) -> int:
    from .identify.report import format_report, lookup_report
    from .identify.rules import DialingRules

    settings = _settings(args)
    rules = DialingRules.from_settings(settings)
    db, _ = open_database(args, settings)
    try:
        with db.session() as session:
            report = lookup_report(session, args.value, rules)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
    return EXIT_OK


def cmd_tickets(args: argparse.Namespace) -> int:
    from .data.models import AssignmentMode, TicketPriority, TicketStatus
    from .tickets import board as ticket_board
    from .tickets import service as tickets
    from .tickets.calendar import parse_duration, parse_hours

    db, _ = open_database(args, _settings(args))
    try:
        with db.session() as session:
            if args.action == "queue":
                targets: dict[TicketPriority, tuple[int | None, int | None]] = dict(
                    tickets.DEFAULT_TARGETS
                )
                for item in args.sla:
                    name, _, spec = item.partition("=")
                    first, _, resolution = spec.partition("/")
                    try:
                        priority = TicketPriority(name.strip().lower())
                    except ValueError:
                        raise CommandError(f"--sla {item!r}: unknown priority {name!r}") from None
                    targets[priority] = (
                        parse_duration(first) if first else None,
                        parse_duration(resolution) if resolution else None,
                    )

                def user_id(login: str) -> int:
                    from sqlalchemy import select

                    from .data.models import User

                    found = session.scalar(select(User.id).where(User.login == login.strip()))
                    if found is None:
                        raise CommandError(f"no user with the login {login.strip()!r}")
                    return found

                members = [user_id(x) for x in (args.members or "").split(",") if x.strip()]
                queue = tickets.save_queue(
                    session,
                    tickets.QueueSetup(
                        args.name,
                        supervisor_id=user_id(args.supervisor) if args.supervisor else None,
                        email=args.email,
                        time_zone=args.time_zone,
                        holidays=args.holidays,
                        hours=parse_hours(args.hours) if args.hours else None,
                        targets=targets,
                        at_risk_percent=args.at_risk,
                        assignment_mode=AssignmentMode(args.assignment),
                    ),
                )
                if args.members is not None:
                    from .tickets.assignment import set_members

                    set_members(session, queue.id, members)
                print(f"queue {queue.name!r} (#{queue.id}) saved")
                return EXIT_OK
            if args.action == "new":
                queue_id = (
                    ticket_board.queue_id_for(session, args.new_queue) if args.new_queue else None
                )
                ticket = tickets.create_ticket(
                    session,
                    tickets.TicketInput(
                        subject=args.subject,
                        description=args.description,
                        queue_id=queue_id,
                        priority=TicketPriority(args.priority),
                        contact_id=args.contact,
                        organization_id=args.organization,
                    ),
                )
                if args.new_json:
                    print(json.dumps(tickets.ticket_dict(ticket), ensure_ascii=False))
                else:
                    print(f"{ticket.number} opened")
                return EXIT_OK
            if args.action == "recompute":
                count = tickets.recompute_open_tickets(session)
                print(f"due times of {count} open tickets recomputed")
                return EXIT_OK
            if args.action == "escalate":
                from .tickets.escalation import run_escalation

                found = run_escalation(session)
                for n in found:
                    record = {
                        "ticket": n.number,
                        "subject": n.subject,
                        "level": n.level,
                        "due": n.due_at.isoformat() if n.due_at else None,
                        "recipient_id": n.recipient_id,
                    }
                    if args.escalate_json:
                        print(json.dumps(record, ensure_ascii=False))
                    else:
                        print(f"{n.number}  {n.level.replace('_', ' ')}  {n.subject}")
                return EXIT_OK
            status = None
            if args.status:
                try:
                    status = TicketStatus(args.status.strip().lower())
                except ValueError:
                    choices = ", ".join(s.value for s in TicketStatus)
                    raise CommandError(f"--status {args.status!r}: one of {choices}") from None
            queue_id = ticket_board.queue_id_for(session, args.queue) if args.queue else None
            from .data.models import utcnow

            now = utcnow()
            rows = ticket_board.list_tickets(
                session, queue_id=queue_id, status=status, now=now, limit=args.limit
            )
    finally:
        db.dispose()

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    result: list[dict[str, Any]] = [
        {
            "id": r.id,
            "number": r.number,
            "subject": r.subject,
            "queue": r.queue,
            "priority": r.priority.value,
            "status": r.status.value,
            "assignee": r.assignee or None,
            "customer": r.customer,
            "created_at": iso(r.created_at),
            "sla": ticket_board.sla_state(r.status, r.sla_due, r.sla_warn_at, r.sla_paused, now),
            "due": iso(r.sla_due),
            "at_risk_from": iso(r.sla_warn_at),
        }
        for r in rows
    ]
    if args.json:
        print(json.dumps({"at": now.isoformat(), "tickets": result}, ensure_ascii=False))
        return EXIT_OK
    if not result:
        print("No tickets.")
    for t in result:
        due = ""
        if t["due"]:
            local = datetime.fromisoformat(t["due"]).astimezone()
            due = f"due {local:%d.%m.%Y %H:%M}"
        print(
            f"{t['number']:<10} {t['queue'][:14]:<14} {t['priority']:<7} {t['status']:<20}"
            f"{t['sla']:<9} {due:<22} {(t['assignee'] or '-')[:16]:<16} {t['subject']}"
        )
    return EXIT_OK


def _print_call(result: Any, as_json: bool) -> None:
    data = result.to_json()
    if as_json:
        print(json.dumps(data, ensure_ascii=False), flush=True)
        return
    who = "withheld" if data["number"] is None else data["number"]
    best = data["matches"][0] if data["matches"] else None
    match = f" → {best['name']} ({best['reason']})" if best else ""
    print(f"{data['event']:<24} {who}{match}", flush=True)


def _print_status(status: Any, as_json: bool) -> None:
    from .cti.listener import log_status

    if as_json:
        print(json.dumps(status.to_json(), ensure_ascii=False), flush=True)
    else:
        log_status(status)


def _mail_ticket(db: Any, item: Any) -> dict[str, Any] | None:
    """A mail to a support mailbox opens a ticket or joins the one it answers (tickets.inbox);
    runs on the watcher's thread with a session of its own, and never stops the watcher."""
    from .mail.events import MailEvent
    from .tickets.inbox import ticket_from_mail

    if not isinstance(item, MailEvent):
        return None
    try:
        with db.session() as session:
            result = ticket_from_mail(session, item)
            if result is None:
                return None
            return {"number": result[0].number, "created": result[1]}
    except Exception:
        log.warning("mail %s could not be added to a ticket", item.message_id, exc_info=True)
        return None


def _print_mail(item: Any, as_json: bool, ticket: dict[str, Any] | None = None) -> None:
    data = item.to_json()
    if ticket is not None:
        data["ticket"] = ticket
    if as_json:
        print(json.dumps(data, ensure_ascii=False), flush=True)
        return
    if data["event"] == "mail.status":
        detail = data["reason"] or (
            f"{data['folder']} {data['done']}/{data['total']}" if data["total"] else ""
        )
        print(f"mail.status {data['account']}: {data['state']} {detail}".rstrip(), flush=True)
        return
    best = data["matches"][0] if data["matches"] else None
    who = f" → {best['name']} ({best['reason']})" if best else f" ({data['outcome']})"
    if ticket is not None:
        who += f" [{'new ticket' if ticket['created'] else 'ticket'} {ticket['number']}]"
    print(
        f"{data['event']:<24} {data['from'] or '(no sender)'}{who}: {data['subject']}", flush=True
    )


def _mail_watchers(settings: Settings, db: Any) -> list[Any]:
    """The ``[[imap]]`` accounts as watchers; a missing keyring entry is said up front."""
    from .mail.watcher import accounts_from_settings, watchers_from_settings

    entries = settings.entries("imap")
    try:
        accounts = accounts_from_settings(entries)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    for account in accounts:
        try:
            get_secret(account.secret)
        except SecretError as exc:
            raise CommandError(f"[[imap]] {account.name!r} cannot log in: {exc}") from exc
    return watchers_from_settings(entries, db, get_secret)


def cmd_listen(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .cti.calllog import CallLogger
    from .cti.listener import Listener, sip_sources_from_settings, sources_from_settings
    from .identify.rules import DialingRules

    settings = _settings(args)
    rules = DialingRules.from_settings(settings)
    entries = settings.entries("simulator")
    if args.simulate is not None:
        entries.append({"name": "simulator", "scenario": args.simulate, "speed": args.speed})
    if args.speed <= 0:
        raise CommandError("--speed must be a positive number")
    try:
        sources = sip_sources_from_settings(settings.entries("sip"))
        sources += sources_from_settings(entries)
    except (OSError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    if not sources and not settings.entries("imap"):
        raise CommandError(
            "no call source is configured and no mail account: add a [[sip]], [[simulator]] "
            "or [[imap]] table to the settings (desktop-crm config keys), or run with --simulate"
        )
    db, _ = open_database(args, settings)
    printing = threading.Lock()  # calls and every mail account print from their own threads

    def show_call(result: Any) -> None:
        with printing:
            _print_call(result, args.json)

    def show_mail(item: Any) -> None:
        ticket = _mail_ticket(db, item)
        with printing:
            _print_mail(item, args.json, ticket)

    def show_status(status: Any) -> None:
        with printing:
            _print_status(status, args.json)

    stop = threading.Event()
    listener = (
        Listener(sources, CallLogger(db, rules), show_call, on_status=show_status)
        if sources
        else None
    )
    watchers: list[Any] = []
    previous: dict[Any, Any] = {}
    try:
        watchers = _mail_watchers(settings, db)
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            if listener is not None:
                listener.start()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        for watcher in watchers:
            watcher.start(show_mail)
        names = ", ".join([source.name for source in sources] + [w.name for w in watchers])
        print(f"listening: {names}; database {db.display_url}", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for watcher in watchers:
            watcher.stop()
        if listener is not None:
            listener.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        db.dispose()
    return EXIT_OK


def cmd_mail(args: argparse.Namespace) -> int:
    from .data import mail_store
    from .data.models import UnassignedStatus

    db, _ = open_database(args, _settings(args))
    try:
        with db.session() as session:
            if args.action == "unassigned":
                status = None if args.all else UnassignedStatus.OPEN
                rows = mail_store.list_unassigned(session, status=status, limit=10_000)
                if args.json:
                    print(
                        json.dumps(
                            [
                                {
                                    "id": r.id,
                                    "status": str(r.status),
                                    "message_id": r.message_id,
                                    "from": r.sender or None,
                                    "from_name": r.sender_name,
                                    "to": list(r.recipients),
                                    "subject": r.subject,
                                    "sent_at": r.sent_at.isoformat(),
                                    "account": r.account,
                                    "folder": r.folder,
                                    "direction": str(r.direction),
                                    "attachments": list(r.attachments),
                                    "snippet": r.snippet,
                                    "interaction_id": r.interaction_id,
                                }
                                for r in rows
                            ],
                            ensure_ascii=False,
                        )
                    )
                    return EXIT_OK
                if not rows:
                    print("No unassigned mail.")
                for r in rows:
                    when = r.sent_at.isoformat()[:16].replace("T", " ")
                    state = "" if r.status is UnassignedStatus.OPEN else f" [{r.status}]"
                    print(f"{r.id:>6}  {when}  {r.sender or '(no sender)'}: {r.subject}{state}")
                return EXIT_OK
            if args.id is None:
                raise CommandError(f"mail {args.action} needs the id of an unassigned mail")
            if args.action == "dismiss":
                mail_store.dismiss_unassigned(session, args.id)
                print(f"Unassigned mail {args.id} dismissed.")
                return EXIT_OK
            if (args.contact is None) == (args.organization is None):
                raise CommandError("mail assign needs --contact N or --organization N")
            entry = mail_store.assign_unassigned(
                session, args.id, contact_id=args.contact, organization_id=args.organization
            )
            print(f"Unassigned mail {args.id} logged as history entry {entry.id}.")
            return EXIT_OK
    finally:
        db.dispose()


def cmd_simulate_call(args: argparse.Namespace) -> int:
    from .cti.sip.client import SipClientError, send_call

    settings = _settings(args)
    accounts = settings.entries("sip")
    target = args.to
    transport = args.transport
    if target is None:
        bind = accounts[0]["bind"] if accounts else "127.0.0.1:5062"
        target = f"sip:crm@{bind}"
        transport = transport or (accounts[0]["transport"] if accounts else "udp")
    try:
        result = send_call(
            target,
            args.number,
            name=args.name,
            ring_seconds=args.ring_seconds,
            answer=args.answer,
            transport=transport or "udp",
        )
    except (SipClientError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    statuses = " ".join(str(code) for code in result.statuses)
    print(f"sip:{result.call_id}: {statuses}")
    return EXIT_OK


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def cmd_config(args: argparse.Namespace) -> int:
    if args.action == "keys":
        print(describe())
        return EXIT_OK
    settings = _settings(args)
    if args.action == "path":
        print(settings.path)
        return EXIT_OK
    state = "" if settings.file_exists else " (not present: all defaults)"
    print(f"# settings file: {settings.path}{state}")
    effective = settings.effective()
    url, is_default = resolve_url(args.database, settings.get("database.url"), default_data_dir())
    print(f"# database in use: {display_url(parse_url(url))}{' (default)' if is_default else ''}")
    for name, section in SECTIONS.items():
        values = effective[name]
        if section.many:
            for entry in values:
                print(f"\n[[{name}]]")
                for key, value in entry.items():
                    print(f"{key} = {_toml_value(value)}")
            continue
        print(f"\n[{name}]")
        for key, value in values.items():
            print(f"{key} = {_toml_value(value)}")
    return EXIT_OK


def cmd_secret(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        value = getpass.getpass(f"Password for {args.name}: ")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CommandError("no password given; nothing stored")
    set_secret(args.name, value)
    print(f"Password stored in the keyring as {args.name!r}.")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", cmd_gui)
    try:
        return func(args)
    except (CommandError, SettingsError, SecretError, DataError) as exc:
        print(f"desktop-crm: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("desktop-crm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
