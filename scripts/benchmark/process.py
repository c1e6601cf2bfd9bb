"""A server under test: a child process on a free loopback port, stopped by its own PID.

Every server the suite starts (FieldSync, the ceiling, pouchdb-server) is one ``ServerProcess``:
started with an explicit environment, polled until it answers, and always stopped in a
``finally`` — SIGTERM to that PID, SIGKILL after a bounded wait. Nothing else is ever killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def check_loopback(url: str) -> None:
    from urllib.parse import urlparse

    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"refusing a non-loopback target: {url}")


class ServerProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        port: int,
        ready_path: str,
        log: Path,
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self._argv = list(argv)
        self._env = dict(env)
        self._cwd = cwd
        self._ready_path = ready_path
        self._log_path = log
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, f"{self.name} is not running"
        return self._proc.pid

    def start(self, timeout: float = 60.0) -> None:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self._log_path, "ab")  # noqa: SIM115 - closed when the process stops
        self._proc = subprocess.Popen(  # noqa: S603 - argv built by the harness
            self._argv, cwd=self._cwd, env=self._env, stdout=log, stderr=subprocess.STDOUT
        )
        self._log = log
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self._proc.returncode}: {self.tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + self._ready_path, timeout=2) as r:  # noqa: S310
                    if r.status < 500:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f}s: {self.tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout)
        self._log.close()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def running(server: ServerProcess, timeout: float = 60.0) -> Iterator[ServerProcess]:
    server.start(timeout)
    try:
        yield server
    finally:
        server.stop()
