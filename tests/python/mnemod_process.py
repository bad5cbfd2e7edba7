"""MnemodProcess: runs a real mnemod for the tests, on 127.0.0.1 with an ephemeral port.

The binary comes from $MNEMO_MNEMOD (set by tests/python/CMakeLists.txt); the port is read from
the --port-file mnemod writes once it listens.  Every wait is bounded in time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


def mnemod_path() -> str:
    path = os.environ.get("MNEMO_MNEMOD", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set MNEMO_MNEMOD to the mnemod binary (ctest does this)")
    return path


class MnemodProcess:
    """One mnemod serving ``work_dir/data``; restartable on the same data directory."""

    def __init__(self, work_dir: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.work_dir = work_dir
        self.data_dir = work_dir / "data"
        self.port_file = work_dir / "mnemod.port"
        self.log_path = work_dir / "mnemod.log"
        self.extra_args = extra_args
        self.port = 0
        self._process: Optional[subprocess.Popen[bytes]] = None

    def start(self, port: int = 0) -> int:
        """Starts mnemod (on ``port``, or an ephemeral one) and returns the bound port."""
        self.port_file.unlink(missing_ok=True)
        argv = [mnemod_path(), "--data", str(self.data_dir), "--listen", f"127.0.0.1:{port}",
                "--port-file", str(self.port_file), "--log-level", "warn", "--io-threads", "2",
                "--workers", "2", *self.extra_args]
        log = open(self.log_path, "ab")
        self._process = subprocess.Popen(argv, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = self.port_file.read_text() if self.port_file.exists() else ""
            if text.endswith("\n"):
                self.port = int(text)
                return self.port
            if self._process.poll() is not None:
                raise RuntimeError(f"mnemod exited ({self._process.returncode}): {self.log_tail()}")
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"mnemod did not write its port file in {START_TIMEOUT_S} s: "
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (graceful shutdown), SIGKILL if it does not exit in time."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(STOP_TIMEOUT_S)
        self._process = None

    def kill(self) -> None:
        if self._process is None:
            return
        self._process.kill()
        self._process.wait(STOP_TIMEOUT_S)
        self._process = None

    def restart(self) -> int:
        """Stops and starts again on the same port and data directory."""
        port = self.port
        self.stop()
        return self.start(port)

    def log_tail(self, size: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""
