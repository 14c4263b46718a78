"""A private Dovecot IMAP server for the tests, on 127.0.0.1 in a temp folder.

Debian's ``dovecot-imapd`` is run with a configuration of its own (``dovecot -F -c FILE``): its
own ``base_dir`` and ``state_dir``, a passwd-file with users whose passwords are made for the
session, maildirs in the temp folder, plain-text login allowed (it is loopback only), IDLE
notified within a second, and a self-signed certificate made with the ``openssl`` binary for the
TLS ports (implicit TLS and STARTTLS). The system's Dovecot configuration and /var/run/dovecot
are never touched. ``restart()`` stops and starts the same server on the same ports with the same
mail; ``stop()``/``start()`` do it in two steps.

Nothing is logged or printed with a password in it.
"""

from __future__ import annotations

import os
import pwd
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

from tests.helpers.kamailio import free_port

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


@dataclass(frozen=True)
class MailUser:
    name: str
    password: str = field(repr=False)


@dataclass
class DovecotServer:
    """A running private Dovecot: ports, users, and ways to put mail into its folders."""

    binary: str
    folder: Path
    host: str
    port: int  # plain IMAP, STARTTLS offered
    tls_port: int  # implicit TLS
    users: dict[str, MailUser]
    cert_path: Path
    mail_uid: int
    mail_gid: int
    proc: subprocess.Popen[bytes] | None = None
    _counter: int = 0

    @property
    def config(self) -> Path:
        return self.folder / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.folder / "dovecot.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def user(self, name: str = "anna") -> MailUser:
        return self.users[name]

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        base = self.folder / "mail" / user / "Maildir"
        return base if folder.upper() == "INBOX" else base / f".{folder}"

    # --- process -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        with self.log_path.open("ab") as log_file:
            self.proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"dovecot exited with {self.proc.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer within {timeout}s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        # the listening ports are free again once the children are gone
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _port_in_use(self.host, self.port):
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def renumber(self, user: str = "anna", folder: str = "INBOX") -> None:
        """Make Dovecot renumber a folder (a new UIDVALIDITY, UIDs from 1), as after a server
        move or a rebuilt index: stop, drop its UID list and index files, start."""
        self.stop()
        time.sleep(1.1)  # Dovecot's UIDVALIDITY is a time stamp in seconds
        box = self.maildir(user, folder)
        for path in box.iterdir():
            if path.name.startswith("dovecot"):
                path.unlink()
        self.start()

    def reconfigure(self, extra: str) -> None:
        """Add settings to the configuration and restart, e.g. a capability list without
        IDLE (``imap_capability = IMAP4rev1 LITERAL+``)."""
        with self.config.open("a", encoding="utf-8") as config:
            config.write(extra.rstrip("\n") + "\n")
        self.restart()

    # --- mail --------------------------------------------------------------------------

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> Path:
        """Put a message straight into a maildir (fast; Dovecot gives it the next UID when it
        next looks): for big backlogs. Use an IMAP APPEND to see the IDLE push."""
        box = self.maildir(user, folder)
        for sub in ("new", "cur", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
            os.chown(box / sub, self.mail_uid, self.mail_gid)
        os.chown(box, self.mail_uid, self.mail_gid)
        self._counter += 1
        name = f"{int(time.time())}.M{self._counter}P{os.getpid()}.crmtest"
        tmp = box / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self.mail_uid, self.mail_gid)
        target = box / "new" / name
        tmp.rename(target)
        return target


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def find_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return next((p for p in DOVECOT_PATHS if Path(p).exists()), None)


def render_config(server: DovecotServer, internal_user: str, login_user: str) -> str:
    f = server.folder
    return f"""# private test instance; nothing here touches /etc/dovecot or /var/run/dovecot
instance_name = crm-test-{server.port}
base_dir = {f}/run
state_dir = {f}/state
log_path = {f}/dovecot.log
info_log_path = {f}/dovecot.log
protocols = imap
listen = {server.host}
default_internal_user = {internal_user}
default_internal_group = {_group_of(internal_user)}
default_login_user = {login_user}
first_valid_uid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{f}/cert.pem
ssl_key = <{f}/key.pem
ssl_min_protocol = TLSv1.2
mail_location = maildir:{f}/mail/%u/Maildir
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 10 secs
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {f}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {f}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = {server.host}
    port = {server.port}
  }}
  inet_listener imaps {{
    address = {server.host}
    port = {server.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def _group_of(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _make_certificate(folder: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl is not installed (Debian package openssl)")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )


@contextmanager
def dovecot_server(
    users: tuple[str, ...] = ("anna", "bob", "carla"),
) -> Iterator[DovecotServer | str]:
    """Yield a running server, or a string saying why none is available."""
    binary = find_binary()
    if binary is None:
        yield "dovecot is not installed (Debian package dovecot-imapd)"
        return
    if shutil.which("openssl") is None:
        yield "openssl is not installed (Debian package openssl), needed for the test certificate"
        return
    folder = Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("nobody")
    else:
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        mail_user = pwd.getpwuid(os.geteuid())
    server = DovecotServer(
        binary=binary,
        folder=folder,
        host="127.0.0.1",
        port=free_port(),
        tls_port=free_port(),
        users={name: MailUser(name, secrets.token_urlsafe(12)) for name in users},
        cert_path=folder / "cert.pem",
        mail_uid=mail_user.pw_uid,
        mail_gid=mail_user.pw_gid,
    )
    try:
        _make_certificate(folder)
        (folder / "mail").mkdir()
        os.chown(folder / "mail", server.mail_uid, server.mail_gid)
        passwd = folder / "passwd"
        passwd.write_text(
            "".join(
                f"{u.name}:{{PLAIN}}{u.password}:{server.mail_uid}:{server.mail_gid}::"
                f"{folder}/mail/{u.name}\n"
                for u in server.users.values()
            )
        )
        passwd.chmod(0o644)
        server.config.write_text(render_config(server, internal, login))
        server.start()
    except (OSError, RuntimeError, subprocess.CalledProcessError, KeyError) as exc:
        log = server.log()[-2000:]
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        yield f"dovecot could not be started: {exc}\n{log}"
        return
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
