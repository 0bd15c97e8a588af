"""Start and stop a local Prefect server (API + UI) on 127.0.0.1, for the UI and for tests.

    from deployments.server import PrefectServer
    server = PrefectServer(home=Path(".salad-ui/prefect"), port=4200)
    server.start()                 # returns once /api/health answers
    print(server.api_url)          # http://127.0.0.1:4200/api
    server.stop()

    with temporary_server():       # what `salad run` does: a server that dies with this process
        flow(...)

The database is SQLite under ``home`` unless ``database_url`` (or
``$PREFECT_API_DATABASE_CONNECTION_URL``) names another one, e.g.
``postgresql+asyncpg://user:pass@127.0.0.1:5432/prefect``. The server binds loopback only: a
pipeline UI has no business being reachable from the network by default.

``reconcile_runs`` makes the database tell the truth after kills: a flow run whose process is gone
and a task run whose flow run has ended are marked Crashed (Prefect leaves both Running for ever).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

HOST = "127.0.0.1"
DEFAULT_PORT = 4200


def free_port() -> int:
    """A port on 127.0.0.1 that the OS found free just now (another process may still take it before it is bound)."""
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


def start_background(command: list[str], env: dict[str, str], log_file: Path, cwd: Path | None = None, die_with_parent: bool = False) -> subprocess.Popen:
    """Start ``command`` in its own session (so stopping it stops its children too), output to ``log_file``.

    ``die_with_parent``: the process must not outlive this one, also when this one is killed -9
    (a temporary server of a CLI run). Its own session keeps it out of the terminal's Ctrl-C, so
    two guards stand in: the kernel's parent-death signal, and a watchdog process for what that
    misses (the signal fires when the starting *thread* ends, and only on Linux).
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    on_main_thread = threading.current_thread() is threading.main_thread()  # a thread's end would fire the signal
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_parent_death_signal(os.getpid()) if die_with_parent and on_main_thread else None,
        )
    if die_with_parent:
        start_watchdog(os.getpid(), process.pid)
    return process


def _parent_death_signal(parent: int):
    def preexec() -> None:  # runs in the child between fork and exec
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return  # not Linux: the watchdog alone
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


# The watchdog: a separate process (this one may be killed -9) polling the parent; when the parent
# is gone (or its pid reused: the start time differs) it stops the child's process group.
_WATCHDOG = """
import os, signal, sys, time
parent, started, group = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def start_time(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in "ZX" else fields[19]
while True:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        sys.exit(0)
    if start_time(parent) != started:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                sys.exit(0)
            time.sleep(10)
        sys.exit(0)
    time.sleep(0.5)
"""


def start_watchdog(parent: int, child_group: int) -> subprocess.Popen | None:
    """Start the watchdog that stops process group ``child_group`` once ``parent`` is gone (or its pid reused).

    None, and no watchdog, when ``parent``'s start time cannot be read from /proc (not Linux).
    """
    started = _start_time(parent)
    if started is None:
        return None
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(parent), started, str(child_group)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@dataclass
class PrefectServer:
    """One ``prefect server start`` process bound to 127.0.0.1."""

    home: Path
    port: int = DEFAULT_PORT
    database_url: str | None = field(default_factory=lambda: os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"))
    process: subprocess.Popen | None = None
    die_with_parent: bool = False  # a CLI run's temporary server; `salad ui up`'s outlives the command
    ui: bool = True
    log_name: str = "server.log"

    @property
    def url(self) -> str:
        """The server's address, where the UI is: ``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API's address, what clients are given as ``PREFECT_API_URL``."""
        return f"{self.url}/api"

    @property
    def log_file(self) -> Path:
        """Where the server's output goes, under ``home``."""
        return self.home / self.log_name

    def env(self) -> dict[str, str]:
        """The environment for this server and its clients (see ``prefect_env``): its home, API URL and database."""
        return prefect_env(self.home, self.api_url, self.database_url)

    def start(self, timeout: float = 120.0) -> "PrefectServer":
        """Start the server; returns once ``/api/health`` answers, within ``timeout`` seconds.

        A server that does not come up is stopped, and RuntimeError shows the end of its log.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        env = self.env()
        env.pop("PREFECT_API_URL")  # the server is the API; its UI learns the address from the next two
        env.update(PREFECT_SERVER_API_PORT=str(self.port), PREFECT_UI_API_URL=self.api_url, PREFECT_UI_ENABLED=str(self.ui).lower())
        command = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(self.port), "--analytics-off"]
        self.process = start_background(command, env, self.log_file, die_with_parent=self.die_with_parent)
        try:
            wait_healthy(self.api_url, timeout, self.process)
        except Exception:
            self.stop()
            raise RuntimeError(f"Prefect server failed to start; log: {self.log_file}\n{tail(self.log_file)}") from None
        return self

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, then SIGKILL if it lingers) and wait for it; nothing to do if none was started."""
        if self.process is not None:
            stop_process(self.process.pid)
            self.process.wait(timeout=30)
            self.process = None


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log, for an error message; ``(no log)`` if there is none."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@contextmanager
def temporary_server() -> Iterator[str]:
    """A Prefect API for this process when none is configured (``$PREFECT_API_URL``); yields its URL.

    Prefect would otherwise start its own temporary server, which outlives a driver killed -9 for
    ever. This one is the same kind of server on the same database (``$PREFECT_HOME``, so runs
    of earlier commands stay visible) but dies with this process.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    if PREFECT_API_URL.value():
        yield PREFECT_API_URL.value()
        return
    server = PrefectServer(Path(PREFECT_HOME.value()), free_port(), die_with_parent=True, ui=True, log_name="temporary-server.log")
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url  # for child processes (Ray actors, the training launcher)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        _drain_prefect_workers()  # the run's last log lines and events, before their server goes
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _drain_prefect_workers(timeout: float = 10.0) -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout)


LIVE_STATES = ("PENDING", "RUNNING", "CANCELLING")
FINAL_STATES = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def driver_pid() -> str:
    """How a flow run names the process that executes it (``infrastructure_pid``): host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def record_driver_pid(flow, flow_run, state) -> None:
    """``on_running`` hook for runs started in this process (``salad run``): a worker records the
    pid of the runs it starts, nothing does for a run in the driver, so a kill left it Running."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run.id, infrastructure_pid=driver_pid())


def process_gone(infrastructure_pid: str | None) -> bool:
    """True when the recorded process ran on this host and is gone ("host:pid", or a bare pid from
    a local process worker). Unknown or another host's process: not judged."""
    if not infrastructure_pid:
        return False
    host, _, pid = infrastructure_pid.rpartition(":")
    if (host and host != socket.gethostname()) or not pid.isdigit():
        return False
    return not pid_alive(int(pid))


def reconcile_runs(settle_s: float = 5.0) -> tuple[list[str], list[str]]:
    """Mark Crashed what Prefect leaves Running after a kill, on the server of ``$PREFECT_API_URL``.

    A flow run whose process is gone (``process_gone``); a subflow run or task run whose flow run
    has ended, or has started again since (a retry: they belong to the killed attempt). Only states
    older than ``settle_s`` are judged: the last states of a run may still be on their way.
    Returns the names of the flow runs and task runs it marked.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
        TaskRunFilter,
        TaskRunFilterId,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    live = [StateType(s) for s in LIVE_STATES]
    now = time.time()

    def settled(run) -> bool:
        return run.state is not None and now - run.state.timestamp.timestamp() > settle_s

    def ended(run) -> bool:
        return settled(run) and run.state.is_final()

    def superseded(child, owner) -> bool:  # left by an earlier attempt: the owner has started again since
        return (
            child.state is not None
            and owner.state_type.value == "RUNNING"
            and settled(owner)
            and (owner.state.timestamp.timestamp() > child.state.timestamp.timestamp() + 1)
        )

    flows, tasks = [], []
    with get_client(sync_client=True) as client:
        for _ in range(3):  # a crashed parent can end a subflow, whose task runs then end
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=live))))
            parents = {r.parent_task_run_id for r in runs if r.parent_task_run_id}
            parent_task = {t.id: t for t in client.read_task_runs(task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=list(parents))))} if parents else {}
            parent_flow_ids = {t.flow_run_id for t in parent_task.values() if t.flow_run_id}
            parent_flows = (
                {f.id: f for f in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(parent_flow_ids))))}
                if parent_flow_ids
                else {}
            )
            marked = 0
            for run in runs:
                why = None
                if run.state_type.value != "PENDING" and settled(run) and process_gone(run.infrastructure_pid):
                    # (a Pending run may carry the pid of its previous attempt until the worker records the new one)
                    why = f"its process ({run.infrastructure_pid}) is gone"
                elif run.parent_task_run_id in parent_task:
                    parent = parent_flows.get(parent_task[run.parent_task_run_id].flow_run_id)
                    if parent is not None and ended(parent) or parent_task[run.parent_task_run_id].state.is_final():
                        why = "the run that started it has ended"
                    elif parent is not None and superseded(run, parent):
                        why = f"the run that started it, {parent.name}, has started again since"
                if why:
                    client.set_flow_run_state(run.id, Crashed(message=f"{why} (marked by salad's run reconciliation)"), force=True)
                    flows.append(run.name)
                    marked += 1
            if not marked:
                break
            now = time.time() + settle_s  # runs marked just now count as ended
        running = client.read_task_runs(task_run_filter=TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(any_=live))))
        owner_ids = {t.flow_run_id for t in running if t.flow_run_id}
        owners = {f.id: f for f in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(owner_ids))))} if owner_ids else {}
        for task in running:
            owner = owners.get(task.flow_run_id)
            if owner is not None and (ended(owner) or superseded(task, owner)):
                how = f"ended {owner.state.type.value}" if ended(owner) else "started again since"
                message = f"its flow run {owner.name} {how} (marked by salad's run reconciliation)"
                client.set_task_run_state(task.id, Crashed(message=message), force=True)
                tasks.append(task.name)
    return flows, tasks
