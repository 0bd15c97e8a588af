"""Start and stop a local Prefect server (API + UI) on 127.0.0.1, for the UI and for tests.

    from deployments.server import PrefectServer
    server = PrefectServer(home=Path(".salad-ui/prefect"), port=4200)
    server.start()                 # returns once /api/health answers
    print(server.api_url)          # http://127.0.0.1:4200/api
    server.stop()

The database is SQLite under ``home`` unless ``database_url`` (or
``$PREFECT_API_DATABASE_CONNECTION_URL``) names another one, e.g.
``postgresql+asyncpg://user:pass@127.0.0.1:5432/prefect``. The server binds loopback only: a
pipeline UI has no business being reachable from the network by default.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 4200


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def prefect_env(home: Path, api_url: str | None, database_url: str | None = None) -> dict[str, str]:
    """The environment every Prefect process of this installation shares.

    A private ``PREFECT_HOME`` keeps the user's own ``~/.prefect`` (profiles, database) untouched;
    analytics stay off because they write to the database at start-up and phone home.
    """
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_API_HOST=HOST,
        PREFECT_UI_ENABLED="true",
        PYTHONUNBUFFERED="1",
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    return env


def wait_healthy(api_url: str, timeout: float = 120.0, process: subprocess.Popen | None = None) -> None:
    """Block until ``<api_url>/health`` answers; fail early if the server process died."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last_error = exc
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server at {api_url} did not answer within {timeout:.0f}s ({last_error})")


def stop_process(pid: int, timeout: float = 20.0) -> bool:
    """SIGTERM the process group ``pid`` leads, then SIGKILL after ``timeout``; True if it was running."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie child counts as gone)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to /proc
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def start_background(command: list[str], env: dict[str, str], log_file: Path, cwd: Path | None = None) -> subprocess.Popen:
    """Start ``command`` in its own session (so stopping it stops its children too), output to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )


@dataclass
class PrefectServer:
    """One ``prefect server start`` process bound to 127.0.0.1."""

    home: Path
    port: int = DEFAULT_PORT
    database_url: str | None = field(default_factory=lambda: os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    def env(self) -> dict[str, str]:
        return prefect_env(self.home, self.api_url, self.database_url)

    def start(self, timeout: float = 120.0) -> "PrefectServer":
        self.home.mkdir(parents=True, exist_ok=True)
        env = self.env()
        env.pop("PREFECT_API_URL")  # the server is the API; its UI learns the address from the next two
        env.update(PREFECT_SERVER_API_PORT=str(self.port), PREFECT_UI_API_URL=self.api_url)
        command = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(self.port), "--analytics-off"]
        self.process = start_background(command, env, self.log_file)
        try:
            wait_healthy(self.api_url, timeout, self.process)
        except Exception:
            self.stop()
            raise RuntimeError(f"Prefect server failed to start; log: {self.log_file}\n{tail(self.log_file)}") from None
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process.pid)
            self.process.wait(timeout=30)
            self.process = None


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
