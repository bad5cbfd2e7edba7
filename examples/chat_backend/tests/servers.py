"""Throwaway servers for the chat backend's tests and benchmark, all on 127.0.0.1.

- MnemodProcess: tests/python/mnemod_process.py (mnemod from $MNEMO_MNEMOD);
- PostgresCluster: initdb + pg_ctl in a fresh temporary directory, on a free port;
- UvicornApp: the example app served by ``python -m uvicorn`` (README's one command).

Every wait is bounded in time; stop() is safe to call twice.  Not thread-safe.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Mapping, Optional

REPO = Path(__file__).resolve().parents[3]
APP_DIR = REPO / "examples" / "chat_backend"
sys.path.insert(0, str(REPO / "tests" / "python"))

from mnemod_process import MnemodProcess  # noqa: E402  (tests/python, added to the path above)

__all__ = ["MnemodProcess", "PostgresCluster", "UvicornApp", "free_port", "child_pids",
           "cpu_seconds", "APP_DIR", "REPO"]

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _log_tail(path: Path, size: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def postgres_bin_dir() -> Optional[Path]:
    """$MNEMO_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin; None when absent."""
    if os.environ.get("MNEMO_PG_BIN"):
        return Path(os.environ["MNEMO_PG_BIN"])
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else -1)
    return versions[-1].parent if versions else None


class PostgresCluster:
    """A PostgreSQL cluster of its own.  PostgreSQL refuses to run as root, so as root every
    PostgreSQL command runs as the ``postgres`` system user, which owns the directory (made under
    the system temporary directory, which that user can reach)."""

    def __init__(self, durable: bool = True) -> None:
        self.durable = durable
        self.port = 0
        self.dir: Optional[Path] = None
        self._bin = postgres_bin_dir()
        self._running = False

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = list(argv)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S)

    def start(self) -> "PostgresCluster":
        if self._bin is None:
            raise RuntimeError("PostgreSQL binaries not found (install postgresql-15, or set "
                               "MNEMO_PG_BIN)")
        self.dir = Path(tempfile.mkdtemp(prefix="chat-backend-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        data = self.dir / "data"
        init = self._run(str(self._bin / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                         "trust", "-E", "UTF8", "--no-locale")
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stdout[-800:]}{init.stderr[-800:]}")
        self.port = free_port()
        self._pg_ctl_start()
        return self

    def _pg_ctl_start(self) -> None:
        assert self.dir is not None
        durability = "on" if self.durable else "off"
        settings = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
                    f"-c fsync={durability} -c synchronous_commit={durability} "
                    f"-c full_page_writes={durability} -c max_connections=200")
        started = self._run(str(self._bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l",
                            str(self.dir / "server.log"), "-w", "-t", "60", "-o", settings,
                            "start")
        if started.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {started.stdout[-400:]}"
                               f"{_log_tail(self.dir / 'server.log')}")
        self._running = True

    def stop(self, remove: bool = True) -> None:
        if self.dir is None:
            return
        if self._running:
            self._run(str(self._bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast",
                      "-w", "-t", "60", "stop")
            self._running = False
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def restart(self) -> None:
        """Starts the stopped cluster again, on the same port and data."""
        assert self.dir is not None and not self._running
        self._pg_ctl_start()

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, background workers)."""
        if self.dir is None:
            return []
        try:
            postmaster = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *child_pids(postmaster)]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"


def child_pids(parent: int) -> list[int]:
    """Every live descendant of ``parent`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    pending = [parent]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


class UvicornApp:
    """``python -m uvicorn chat_backend.main:app --app-dir examples/chat_backend`` with the given
    CHAT_BACKEND_* environment, on a free port of 127.0.0.1."""

    def __init__(self, python: str, env: Mapping[str, str], log_path: Path, workers: int = 1,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.python = python
        self.env = dict(env)
        self.log_path = log_path
        self.workers = workers
        self.extra_args = extra_args
        self.port = 0
        self.process: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> "UvicornApp":
        self.port = free_port()
        argv = [self.python, "-m", "uvicorn", "chat_backend.main:app", "--app-dir", str(APP_DIR),
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
                *self.extra_args]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=log,
                                        env={**os.environ, **self.env})
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited ({self.process.returncode}): "
                                   f"{_log_tail(self.log_path)}")
            if self._ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"uvicorn did not answer /ready in {START_TIMEOUT_S} s: "
                           f"{_log_tail(self.log_path)}")

    def _ready(self) -> bool:
        """True once every worker has started (the startup log line per worker is written
        after its lifespan opened the store) and /ready answers."""
        if _log_tail(self.log_path, 1 << 20).count("Application startup complete") < self.workers:
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as connection:
                connection.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return connection.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def pids(self) -> list[int]:
        """The uvicorn process and its workers."""
        if self.process is None:
            return []
        return [self.process.pid, *child_pids(self.process.pid)]

    def stop(self) -> int:
        """SIGTERM (graceful: lifespan shutdown closes the store), SIGKILL if it lingers;
        returns the exit status."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait(STOP_TIMEOUT_S)
        self.process = None
        return status


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each live process in ``pids`` (threads included)."""
    tick = os.sysconf("SC_CLK_TCK")
    times: dict[int, float] = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    return times
