"""Real SIP peers for the tests: sipp callers and desk phones, sipsak registrations.

Every peer binds to 127.0.0.1 on a free port, handles one call (``-m 1``), has a global
timeout, and writes its SIP messages (``-trace_msg``), errors and final screen into its own
folder, so a test can assert what a peer received. `SippPeers` stops whatever is still running
when the test ends.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.kamailio import KamailioServer, SipUser, free_port

SCENARIOS = Path(__file__).resolve().parents[1] / "integration" / "scenarios"
SIPP_PACKAGE = "sip-tester"
SIPSAK_PACKAGE = "sipsak"
SIPP_BIND_FAILED = 254  # sipp's exit code when it cannot bind a socket
_LOG_SEPARATOR = re.compile(r"^-{20,} \d{4}-\d\d-\d\d [\d:.]+$", re.MULTILINE)


def find_sipp() -> str | None:
    return shutil.which("sipp")


def find_sipsak() -> str | None:
    return shutil.which("sipsak")


def scenario(name: str) -> Path:
    """A scenario file of tests/integration/scenarios (``.xml`` may be left out)."""
    path = SCENARIOS / (name if name.endswith(".xml") else f"{name}.xml")
    if not path.exists():
        raise FileNotFoundError(path)
    return path


@dataclass
class SippResult:
    """How a sipp run ended: exit code (0 = every call succeeded) and its logs."""

    returncode: int
    messages: str
    errors: str
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def received(self, method_or_code: str) -> list[str]:
        """The messages sipp received that are ``method_or_code`` requests or responses.

        Each is the message text from its first line on, as logged by ``-trace_msg``.
        """
        found = []
        for block in _LOG_SEPARATOR.split(self.messages):
            head, _, message = block.strip().partition("\n")
            if "message received" not in head:
                continue
            message = message.strip()
            first = message.partition("\n")[0]
            if first.startswith((f"{method_or_code} ", f"SIP/2.0 {method_or_code} ")):
                found.append(message)
        return found

    def describe(self) -> str:
        return (
            f"sipp exited with {self.returncode}\n--- errors ---\n{self.errors[-3000:]}\n"
            f"--- messages ---\n{self.messages[-6000:]}\n--- output ---\n{self.output[-2000:]}"
        )


@dataclass
class SippPeer:
    """A running sipp process (a caller or a desk phone)."""

    name: str
    port: int
    folder: Path
    proc: subprocess.Popen[bytes]
    command: list[str] = field(repr=False)
    result: SippResult | None = None

    @property
    def uri_hostport(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait(self, timeout: float = 30.0) -> SippResult:
        """Wait for sipp to exit (killing it after ``timeout``) and collect its logs."""
        if self.result is not None:
            return self.result
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        return self._collect()

    def stop(self) -> SippResult:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self._collect()

    def _collect(self) -> SippResult:
        if self.result is None:
            self.result = SippResult(
                self.proc.returncode if self.proc.returncode is not None else -1,
                _read(self.folder / "messages.log"),
                _read(self.folder / "errors.log"),
                _read(self.folder / "output.log"),
            )
        return self.result


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _udp_port_bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


class SippPeers:
    """Starts sipp peers for one test and stops them all at its end."""

    def __init__(self, sipp: str, folder: Path, registrar: KamailioServer | None = None):
        self.sipp = sipp
        self.folder = folder
        self.registrar = registrar
        self.peers: list[SippPeer] = []

    def _start(
        self,
        name: str,
        scenario_name: str,
        remote: str | None,
        keys: dict[str, str],
        extra: Iterable[str],
        timeout: float,
        attempts: int = 3,
    ) -> SippPeer:
        """Start sipp and wait until it listens; if it lost a race for a port, try new ports."""
        for attempt in range(1, attempts + 1):
            folder = self.folder / f"{len(self.peers):02d}-{name}-{attempt}"
            peer = self._spawn(folder, name, scenario_name, remote, keys, extra, timeout)
            deadline = time.monotonic() + 5
            while peer.proc.poll() is None and time.monotonic() < deadline:
                if _udp_port_bound(peer.port):
                    time.sleep(0.02)  # a sipp that failed to bind exits right away
                    if peer.proc.poll() is None:
                        self.peers.append(peer)
                        return peer
                time.sleep(0.02)
            if peer.proc.poll() not in (None, SIPP_BIND_FAILED):
                self.peers.append(peer)  # a quick caller that has already finished
                return peer
            result = peer.stop()
            if attempt == attempts:
                raise RuntimeError(f"sipp {name} did not start:\n{result.describe()}")
        raise AssertionError("unreachable")

    def _spawn(
        self,
        folder: Path,
        name: str,
        scenario_name: str,
        remote: str | None,
        keys: dict[str, str],
        extra: Iterable[str],
        timeout: float,
    ) -> SippPeer:
        folder.mkdir(parents=True)
        port = free_port()
        command = [self.sipp]
        if remote:
            command.append(remote)
        command += [
            "-sf",
            str(scenario(scenario_name)),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mp",
            str(free_port()),
            "-m",
            "1",
            "-timeout",
            f"{int(timeout)}s",
            "-timeout_error",
            "-recv_timeout",
            f"{int(timeout * 1000)}",
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(folder / "messages.log"),
            "-trace_err",
            "-error_file",
            str(folder / "errors.log"),
        ]
        for key, value in keys.items():
            command += ["-key", key, value]
        command += list(extra)
        with (folder / "output.log").open("wb") as out:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=folder,
                start_new_session=True,
            )
        return SippPeer(name, port, folder, proc, command)

    def uas(
        self,
        scenario_name: str = "uas_answer",
        *,
        name: str = "phone",
        answer_ms: int = 300,
        keys: dict[str, str] | None = None,
        extra: Iterable[str] = (),
        timeout: float = 15.0,
    ) -> SippPeer:
        """A desk phone listening on 127.0.0.1:<its port>; register it with `register`."""
        extra = ["-d", str(answer_ms), *extra]
        return self._start(name, scenario_name, None, dict(keys or {}), extra, timeout)

    def uac(
        self,
        service: str,
        scenario_name: str = "uac_call",
        *,
        name: str = "caller",
        caller: str = "+4930123456",
        caller_name: str = "Jürgen Müller GmbH",
        pause_ms: int = 300,
        remote: str | None = None,
        keys: dict[str, str] | None = None,
        extra: Iterable[str] = (),
        timeout: float = 15.0,
    ) -> SippPeer:
        """A caller dialling ``service`` (an extension) through the registrar (or ``remote``).

        ``pause_ms`` is how long it lets the phone ring (uac_cancel) or talks (uac_call).
        """
        if remote is None:
            if self.registrar is None:
                raise ValueError("no registrar: pass remote='host:port'")
            remote = self.registrar.hostport
        all_keys = {
            "caller": caller,
            "caller_name": caller_name,
            **(keys or {}),
        }
        return self._start(
            name,
            scenario_name,
            remote,
            all_keys,
            ["-s", service, "-d", str(pause_ms), *extra],
            timeout,
        )

    def register(
        self,
        user: SipUser,
        contact: str,
        *,
        password: str | None = None,
        expires: int = 60,
        name: str = "register",
        timeout: float = 10.0,
    ) -> SippPeer:
        """REGISTER ``contact`` (``host:port``) for ``user`` with digest auth (uac_register)."""
        if self.registrar is None:
            raise ValueError("no registrar to register with")
        secret = user.password if password is None else password
        keys = {"contact": contact, "expires": str(expires)}
        extra = ["-s", user.name, "-au", user.name, "-ap", secret]
        return self._start(name, "uac_register", self.registrar.hostport, keys, extra, timeout)

    def stop_all(self) -> None:
        for peer in self.peers:
            peer.stop()


@dataclass
class RegisterResult:
    returncode: int
    output: str

    @property
    def statuses(self) -> list[int]:
        """Status codes of the replies sipsak received, in order."""
        return [int(code) for code in re.findall(r"^SIP/2\.0 (\d{3})", self.output, re.M)]


def register(
    sipsak: str,
    registrar: KamailioServer,
    user: SipUser | str,
    contact: str,
    *,
    password: str | None = None,
    expires: int = 60,
    transport: str = "udp",
    timeout: float = 10.0,
) -> RegisterResult:
    """REGISTER ``contact`` (``host:port``) for a user with sipsak; its output has no password."""
    name = user.name if isinstance(user, SipUser) else user
    secret = password if password is not None else getattr(user, "password", name)
    command = [
        sipsak,
        "-U",
        "-i",
        "-C",
        f"sip:{name}@{contact}",
        "-x",
        str(expires),
        "-s",
        registrar.uri(name),
        "-a",
        secret,
        "-E",
        transport,
        "-vvv",
    ]
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    output = (proc.stdout + proc.stderr).replace(secret, "***")
    return RegisterResult(proc.returncode, output)


@contextmanager
def sipp_peers(
    sipp: str, folder: Path, registrar: KamailioServer | None = None
) -> Iterator[SippPeers]:
    peers = SippPeers(sipp, folder, registrar)
    try:
        yield peers
    finally:
        peers.stop_all()
