"""A private Kamailio registrar + forking proxy for the tests, on 127.0.0.1 in a temp folder.

The configuration is written per session: digest authentication (MD5, or SHA-256 which the
``auth`` module of Kamailio 5.6 also offers) against users hard-coded in the script with
passwords generated for the session, ``registrar`` + ``usrloc`` in memory, INVITEs forked in
parallel to every contact of the extension, and ``tm`` cancelling the other branches when one
answers (with ``Reason: SIP;cause=200;text="Call completed elsewhere"``).

``kamailio_server(dialog_state=True)`` adds an RFC 4235 ``dialog`` event server (opt-in; the
default config does not change): a SUBSCRIBE with ``Event: dialog`` to ``sip:<ext>@host:port``
from that extension, digest-authenticated with a 401 challenge like REGISTER, is answered 200
and followed by NOTIFYs with application/dialog-info+xml whenever a call to or from the
extension rings, is answered or ends (Kamailio modules dialog, pua, pua_dialoginfo, presence,
presence_dialoginfo; Debian package kamailio-presence-modules).

Nothing is logged or printed with a password in it; the config file is only readable by its
owner.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

MODULES_DIRS = (
    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
    "/usr/lib/aarch64-linux-gnu/kamailio/modules",
    "/usr/lib/kamailio/modules",
)
REALM = "crm.test"
# extensions 100-119 and 200-209; a test that registers should unregister (expires 0) at its
# end or use an extension of its own, since the registrar lives for the whole session
DEFAULT_USERS = tuple(str(n) for n in (*range(100, 120), *range(200, 210)))


_handed_out: set[int] = set()


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1, and not handed out before (with its
    neighbours: sipp's media sockets take the port after the one it is given, and +2)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            if port in _handed_out:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                _handed_out.update(range(port - 3, port + 4))
                return port
    raise RuntimeError("no free UDP+TCP port on 127.0.0.1")


@dataclass(frozen=True)
class SipUser:
    """An extension the registrar knows; ``password`` is secret to the test session."""

    name: str
    password: str = field(repr=False)


@dataclass
class KamailioServer:
    """A running Kamailio: where to send SIP, its realm and the users it accepts."""

    host: str
    port: int
    realm: str
    algorithm: str
    users: dict[str, SipUser]
    folder: Path
    log_path: Path

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def uri(self, user: str | None = None) -> str:
        return f"sip:{user}@{self.hostport}" if user else f"sip:{self.hostport}"

    def user(self, name: str = "100") -> SipUser:
        return self.users[name]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def find_modules_dir() -> str | None:
    for folder in MODULES_DIRS:
        if Path(folder, "registrar.so").exists():
            return folder
    return None


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The presence stack behind ``dialog_state=True``: ``dialog`` tracks every INVITE,
# ``pua_dialoginfo`` turns its state changes into PUBLISHes of application/dialog-info+xml
# (via ``pua``, sent to this Kamailio itself), ``presence`` + ``presence_dialoginfo`` accept
# them and NOTIFY the watchers that SUBSCRIBEd with ``Event: dialog``.  Dialogs, presentities
# and subscriptions are kept in memory only (dialog db_mode 0, presence publ_cache 2 and
# subs_db_mode 0, pua db_mode 0).
DIALOG_STATE_MODULES = ("dialog", "presence", "presence_dialoginfo", "pua", "pua_dialoginfo")
# pua insists on a database even when it keeps its records in memory (db_mode 0): a db_text
# folder with the ``pua`` table (Kamailio 5.6 schema, version 7) and the ``version`` table.
PUA_DB_TEXT_TABLES = {
    "version": "id(int,auto) table_name(string) table_version(int) \n0:pua:7\n",
    "pua": (
        "id(int,auto) pres_uri(string) pres_id(string) event(int) expires(int) "
        "desired_expires(int) flag(int) etag(string) tuple_id(string,null) "
        "watcher_uri(string) call_id(string) to_tag(string) from_tag(string) cseq(int) "
        "record_route(string,null) contact(string) remote_contact(string) version(int) "
        "extra_headers(string) \n"
    ),
}


class _DialogState:
    """The lines ``dialog_state=True`` adds to the config; all empty when ``port`` is None."""

    def __init__(self, port: int | None, db_dir: str = "", password_lines: str = "") -> None:
        self.modules = self.params = self.in_dialog = self.requests = self.routes = ""
        if port is None:
            return
        self.modules = "".join(
            f'loadmodule "{name}.so"\n' for name in ("db_text", *DIALOG_STATE_MODULES)
        )
        self.params = f"""modparam("dialog", "enable_stats", 0)
modparam("dialog", "db_mode", 0)
modparam("presence", "subs_db_mode", 0)
modparam("presence", "publ_cache", 2)
modparam("presence", "server_address", "sip:127.0.0.1:{port}")
modparam("presence", "min_expires", 1)
modparam("presence", "max_expires", 3600)
modparam("presence", "clean_period", 2)
modparam("presence_dialoginfo", "force_single_dialog", 0)
modparam("presence_dialoginfo", "force_dummy_dialog", 1)
modparam("pua", "db_mode", 0)
modparam("pua", "db_url", "text://{db_dir}")
modparam("pua", "outbound_proxy", "sip:127.0.0.1:{port}")
modparam("pua_dialoginfo", "include_callid", 1)
modparam("pua_dialoginfo", "include_tags", 1)
modparam("pua_dialoginfo", "include_localremote", 1)
"""
        self.in_dialog = """    if (has_totag() && is_method("SUBSCRIBE")) {
        route(PRESENCE);
    }
"""
        self.requests = f"""    if (is_method("PUBLISH")) {{
        if ($si != "127.0.0.1" || $sp != {port}) {{
            sl_send_reply("403", "Only this server publishes");
            exit;
        }}
        route(PRESENCE);
    }}
    if (is_method("SUBSCRIBE")) {{
        route(PRESENCE);
    }}
    if (is_method("INVITE")) {{
        dlg_manage();
    }}
"""
        self.routes = (
            """
route[PRESENCE] {
    if (is_method("SUBSCRIBE")) {
        if ($hdr(Event) != "dialog") {
            sl_send_reply("489", "Bad Event");
            exit;
        }
        route(SUBSCRIBE_AUTH);
    }
    if (!t_newtran()) {
        sl_reply_error();
        exit;
    }
    if (is_method("PUBLISH")) {
        handle_publish();
    } else {
        handle_subscribe();
    }
    t_release();
    exit;
}

# SUBSCRIBE is answered here, so it is challenged with 401 (WWW-Authenticate) like REGISTER,
# not 407; the authentication user must be the From user (the watcher)
route[SUBSCRIBE_AUTH] {
    $var(pw) = "";
"""
            + password_lines
            + """
    if (is_present_hf("Authorization")) {
        if ($var(pw) == "" || $au != $fU) {
            sl_send_reply("403", "Forbidden");
            exit;
        }
        pv_www_authenticate(REALM, "$var(pw)", "0");
        $var(rc) = $rc;
        if ($var(rc) > 0) {
            consume_credentials();
            return;
        }
        if ($var(rc) == -2 || $var(rc) == -3 || $var(rc) == -8) {
            xlog("L_NOTICE", "refused SUBSCRIBE of $au (auth result $var(rc))\\n");
            sl_send_reply("403", "Forbidden");
            exit;
        }
    }
    www_challenge(REALM, "1");
    exit;
}
"""
        )


def render_config(
    port: int,
    mpath: str,
    users: dict[str, SipUser],
    algorithm: str = "MD5",
    realm: str = REALM,
    *,
    dialog_state: bool = False,
    db_dir: str = "",
) -> str:
    """The kamailio.cfg of a registrar with digest auth that forks INVITEs in parallel.

    With ``dialog_state`` it also is a presence server for the RFC 4235 ``dialog`` event (see
    `DIALOG_STATE_MODULES`) whose pua keeps its (unused) db_text tables in ``db_dir`` (see
    `write_pua_tables`); without, the config is the plain registrar's, unchanged.
    """
    password_lines = "\n".join(
        f"    if ($au == {_quote(u.name)}) {{ $var(pw) = {_quote(u.password)}; }}"
        for u in users.values()
    )
    extra = _DialogState(port if dialog_state else None, db_dir, password_lines)
    return f"""#!KAMAILIO
#!define REALM "{realm}"

debug=2
log_stderror=yes
memdbg=5
memlog=5
children=2
tcp_children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
alias="127.0.0.1:{port}"
dns=no
rev_dns=no
use_dns_cache=off
dns_try_ipv6=no
tcp_connection_lifetime=60
mpath="{mpath}"

loadmodule "kex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "auth.so"
{extra.modules}
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("registrar", "max_contacts", 10)
modparam("registrar", "default_expires", 300)
modparam("registrar", "min_expires", 1)
modparam("auth", "algorithm", "{algorithm}")
modparam("auth", "secret", "{secrets.token_hex(16)}")
modparam("tm", "fr_timer", 10000)
modparam("tm", "fr_inv_timer", 30000)
modparam("tm", "local_cancel_reason", 1)
modparam("rr", "append_fromtag", 1)
{extra.params}
request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (!sanity_check("1511", "7")) {{
        exit;
    }}
{extra.in_dialog}    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (!is_method("ACK")) {{
        t_check_trans();
    }}
    remove_hf("Route");
    if (is_method("REGISTER")) {{
        route(AUTH);
        if (!save("location")) {{
            sl_reply_error();
        }}
        exit;
    }}
    if (is_method("OPTIONS") && $rU == $null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
{extra.requests}    if (is_method("INVITE")) {{
        record_route();
    }}
    if ($rU == $null) {{
        sl_send_reply("484", "Address Incomplete");
        exit;
    }}
    if (!lookup("location")) {{
        t_newtran();
        t_reply("480", "Temporarily Unavailable");
        exit;
    }}
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}

route[AUTH] {{
    $var(pw) = "";
{password_lines}
    if (is_present_hf("Authorization")) {{
        pv_auth_check(REALM, "$var(pw)", "0", "1");
        $var(rc) = $rc;
        if ($var(rc) > 0) {{
            consume_credentials();
            return;
        }}
        if ($var(rc) == -2 || $var(rc) == -3 || $var(rc) == -8) {{
            xlog("L_NOTICE", "refused REGISTER of $au (auth result $var(rc))\\n");
            sl_send_reply("403", "Forbidden");
            exit;
        }}
    }}
    auth_challenge(REALM, "1");
    exit;
}}
{extra.routes}"""


def write_pua_tables(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PUA_DB_TEXT_TABLES.items():
        (folder / name).write_text(text)


@contextmanager
def kamailio_server(
    users: tuple[str, ...] = DEFAULT_USERS,
    algorithm: str = "MD5",
    start_timeout: float = 10.0,
    *,
    dialog_state: bool = False,
) -> Iterator[KamailioServer | str]:
    """Yield a running server, or a string saying why none is available.

    ``dialog_state``: also serve ``Event: dialog`` subscriptions (needs the Debian package
    kamailio-presence-modules).
    """
    binary = shutil.which("kamailio") or (
        "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
    )
    mpath = find_modules_dir()
    if binary is None or mpath is None:
        yield "kamailio is not installed (Debian package kamailio)"
        return
    if dialog_state:
        missing = [m for m in DIALOG_STATE_MODULES if not Path(mpath, f"{m}.so").exists()]
        if missing:
            yield (
                f"kamailio module(s) {', '.join(missing)} missing "
                "(Debian package kamailio-presence-modules)"
            )
            return
    folder = Path(tempfile.mkdtemp(prefix="crm-kamailio-"))
    accounts = {name: SipUser(name, secrets.token_urlsafe(12)) for name in users}
    port = free_port()
    cfg = folder / "kamailio.cfg"
    db_dir = folder / "db"
    if dialog_state:
        write_pua_tables(db_dir)
    cfg.write_text(
        render_config(
            port, mpath, accounts, algorithm, dialog_state=dialog_state, db_dir=str(db_dir)
        )
    )
    cfg.chmod(0o600)
    log_path = folder / "kamailio.log"
    command = [binary, "-f", str(cfg), "-DD", "-E", "-Y", str(folder), "-m", "32", "-M", "8"]
    if os.geteuid() == 0:  # Kamailio runs as root but need not: drop to nobody after startup
        command += ["-u", "nobody", "-g", "nogroup"]
        for path in (folder, *folder.rglob("*")):
            shutil.chown(path, "nobody", "nogroup")
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )
    server = KamailioServer("127.0.0.1", port, REALM, algorithm, accounts, folder, log_path)
    try:
        error = _wait_ready(proc, server, start_timeout)
        if error is not None:
            yield error
            return
        yield server
    finally:
        _stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(
    proc: subprocess.Popen[bytes], server: KamailioServer, timeout: float
) -> str | None:
    """Poll with OPTIONS until Kamailio answers; a string on failure."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        local = sock.getsockname()[1]
        attempt = 0
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return f"kamailio exited with {proc.returncode} at startup:\n{server.log()[-2000:]}"
            attempt += 1
            probe = (
                f"OPTIONS {server.uri()} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-ready-{attempt}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:probe@127.0.0.1:{local}>;tag=probe\r\n"
                f"To: <{server.uri()}>\r\n"
                f"Call-ID: ready-{attempt}@127.0.0.1\r\n"
                "CSeq: 1 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n"
            )
            sock.sendto(probe.encode(), server.address)
            try:
                data = sock.recv(65535)
            except TimeoutError:
                continue
            if data.startswith(b"SIP/2.0 200"):
                return None
    return f"kamailio did not answer OPTIONS within {timeout}s:\n{server.log()[-2000:]}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    # children of -DD share its process group; make sure none survives
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
