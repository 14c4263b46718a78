"""`desktop-crm listen`: sources → bounded queue → logger → JSON lines, and a clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop_crm.cti.calllog import CallLogger, ResolvedCall
from desktop_crm.cti.events import CallEvent, CallSink, CallSource, CallState
from desktop_crm.cti.listener import Listener
from desktop_crm.data import history, records
from desktop_crm.data.db import Database
from desktop_crm.data.records import ContactInput, PhoneInput
from desktop_crm.identify.rules import DialingRules

SCENARIO = """
[[calls]]
number = "089 2020447-25"
name = "Anna"
ring_seconds = 2
outcome = "missed"
gap_seconds = 1

[[calls]]
number = "anonymous"
ring_seconds = 1
outcome = "answered"
talk_seconds = 30
"""


def test_listen_prints_json_lines_logs_calls_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna", last_name="Zeller", phones=[PhoneInput("+49 89 2020447-25")]
            ),
        ).id
    scenario = tmp_path / "calls.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    exe = Path(sys.executable).parent / "desktop-crm"
    proc = subprocess.Popen(
        [
            str(exe),
            "--database",
            url,
            "listen",
            "--json",
            "--simulate",
            str(scenario),
            "--speed",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(5)]
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert [line["event"] for line in lines] == [
        "call.ringing",
        "call.missed",
        "call.ringing",
        "call.answered",
        "call.ended",
    ]
    assert lines[0]["number"] == "089 2020447-25"
    assert [m["contact_id"] for m in lines[0]["matches"]] == [anna]
    assert lines[2]["withheld"] is True and lines[2]["matches"] == []
    with db.session() as s:
        entries = history.history(s, contact_id=anna)
        assert [(e.outcome, e.remote) for e in entries] == [("missed", "089 2020447-25")]
    db.dispose()


def test_no_source_is_a_clear_error(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "desktop-crm"
    result = subprocess.run(
        [str(exe), "--database", f"sqlite:///{tmp_path / 'x.db'}", "listen"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no call source is configured" in result.stderr


class Burst:
    """A source that fires many ringing events at once from its own thread."""

    name = "burst"

    def __init__(self, count: int) -> None:
        self.count = count
        self.thread: threading.Thread | None = None

    def start(self, sink: CallSink) -> None:
        def run() -> None:
            for n in range(self.count):
                sink(
                    CallEvent(
                        call_id=f"flood-{n}",
                        state=CallState.RINGING,
                        source="burst",
                        remote_number="+4930123456",
                    )
                )

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.join()


def test_a_flood_is_bounded_and_nothing_queued_is_lost_on_stop(sqlite_db: Database) -> None:
    results: list[ResolvedCall] = []
    listener = Listener(
        [Burst(500)], CallLogger(sqlite_db, DialingRules()), results.append, max_queued=50
    )
    listener.start()
    time.sleep(0.2)
    listener.stop()
    assert listener.dropped > 0  # the queue did not grow without bound
    assert (
        len(results) + listener.dropped == 500
    )  # what was queued was handled before stop returned
    with sqlite_db.session() as s:
        assert len(history.history(s, limit=1000)) == len(results)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_simulate_call_reaches_a_sip_listener_end_to_end(tmp_path: Path) -> None:
    """The real path: a SIP INVITE over UDP → our user agent → look-up → history → JSON line."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        juergen = records.create_contact(
            s,
            ContactInput(
                first_name="Jürgen", last_name="Groß", phones=[PhoneInput("089/2020447-25")]
            ),
        ).id
    port = _free_port()
    config = tmp_path / "crm.toml"
    config.write_text(f'[[sip]]\nname = "office"\nbind = "127.0.0.1:{port}"\n', encoding="utf-8")
    exe = str(Path(sys.executable).parent / "desktop-crm")
    common = ["--database", url, "--config", str(config)]
    proc = subprocess.Popen(
        [exe, *common, "listen", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        assert "listening: sip:office" in proc.stderr.readline()
        status = json.loads(proc.stdout.readline())
        assert (status["event"], status["source"]) == ("source.listening", "sip:office")
        assert f"127.0.0.1:{port}" in status["detail"]
        sent = subprocess.run(
            [
                exe,
                *common,
                "simulate-call",
                "+49 89 2020447-25",
                "--name",
                "Jürgen Groß",
                "--ring-seconds",
                "0.2",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert sent.returncode == 0, sent.stderr
        assert "100 180 487" in sent.stdout
        ringing, missed = (json.loads(proc.stdout.readline()) for _ in range(2))
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert [json.loads(line)["event"] for line in rest.splitlines()] == ["source.stopped"]
    assert (ringing["event"], missed["event"]) == ("call.ringing", "call.missed")
    assert ringing["display_name"] == "Jürgen Groß"
    assert [m["contact_id"] for m in ringing["matches"]] == [juergen]
    assert sent.stdout.split(":", 2)[:2] == ["sip", ringing["call_id"].split(":", 1)[1]]
    with db.session() as s:
        [entry] = history.history(s, contact_id=juergen)
        assert (entry.outcome, entry.source) == ("missed", "sip:office")
    db.dispose()


def test_a_busy_sip_port_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        config = tmp_path / "crm.toml"
        config.write_text(f'[[sip]]\nbind = "127.0.0.1:{port}"\n', encoding="utf-8")
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "desktop-crm"),
                "--config",
                str(config),
                "--database",
                f"sqlite:///{tmp_path / 'x.db'}",
                "listen",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot listen" in result.stderr


def test_register_mode_settings_are_checked_with_the_key_named(tmp_path: Path) -> None:
    from desktop_crm.cti.listener import sip_sources_from_settings
    from desktop_crm.cti.sip.agent import SipListener
    from desktop_crm.settings import load_settings

    def sources(body: str) -> list[CallSource]:
        config = tmp_path / "crm.toml"
        config.write_text('[[sip]]\nmode = "register"\n' + body, encoding="utf-8")
        return sip_sources_from_settings(load_settings(config).entries("sip"))

    with pytest.raises(ValueError, match="register mode needs registrar, user, secret"):
        sources("")
    with pytest.raises(ValueError, match=r"registrar: expected host or host:port"):
        sources('registrar = "pbx:50x60"\nuser = "100"\nsecret = "s"\n')
    with pytest.raises(ValueError, match=r"expires: expected 10 to 86400"):
        sources('registrar = "pbx"\nuser = "100"\nsecret = "s"\nexpires = 5\n')
    [agent] = sources(
        'registrar = "pbx.example.com"\nuser = "100"\nauth_user = "u100"\nsecret = "s"\n'
        'transport = "tcp"\nexpires = 120\nkeepalive = 0\n'
    )
    assert isinstance(agent, SipListener) and agent.account is not None
    account = agent.account
    assert (account.registrar_host, account.registrar_port) == ("pbx.example.com", 5060)
    assert (account.user, account.auth_user, account.transport) == ("100", "u100", "tcp")
    assert (account.expires, account.keepalive, account.aor) == (
        120,
        0.0,
        "sip:100@pbx.example.com:5060",
    )


def test_a_burst_is_identified_before_its_rows_are_written_and_every_row_lands(
    sqlite_db: Database,
) -> None:
    """The writer lets the worker go first; the end of the burst is announced (on_idle)."""
    announced: list[float] = []
    idle: list[float] = []
    logger = CallLogger(sqlite_db, DialingRules())
    written: list[float] = []
    write = logger.write

    def timed_write(job: object) -> None:
        write(job)  # type: ignore[arg-type]
        written.append(time.monotonic())

    logger.write = timed_write  # type: ignore[method-assign]
    listener = Listener(
        [Burst(30)],
        logger,
        lambda _call: announced.append(time.monotonic()),
        on_idle=lambda: idle.append(time.monotonic()),
    )
    listener.start()
    deadline = time.monotonic() + 10
    while len(written) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    listener.stop()
    assert len(announced) == 30 and len(written) == 30
    # every caller of the burst was announced before the first history row was written
    assert max(announced) <= min(written)
    assert any(t >= max(announced) for t in idle)  # the worker said it had run dry
    with sqlite_db.session() as s:
        assert len(history.history(s, limit=100)) == 30


def test_a_note_waits_for_its_call_row_instead_of_failing(sqlite_db: Database) -> None:
    logger = CallLogger(sqlite_db, DialingRules())
    event = CallEvent(
        call_id="c-1", state=CallState.RINGING, source="s", remote_number="+4930123456"
    )
    _result, job = logger.prepare(event)
    assert job is not None
    assert logger.wait_for_entry("s", "c-1", timeout=0.05) is None  # not written yet
    found: list[int | None] = []
    waiter = threading.Thread(target=lambda: found.append(logger.wait_for_entry("s", "c-1", 5)))
    waiter.start()
    time.sleep(0.05)
    assert logger.someone_waits
    logger.write(job)
    waiter.join(5)
    assert found and found[0] is not None
    # the pop-up's note then goes into exactly this row
    with sqlite_db.session() as s:
        entry_id = records.add_call_note(s, "Rückruf", interaction_id=found[0])
        s.commit()
    assert entry_id == found[0]
    started = time.monotonic()
    assert logger.wait_for_entry("s", "unknown", timeout=1) is None
    assert time.monotonic() - started < 0.5  # a call it does not know: at once
