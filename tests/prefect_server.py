"""One ``salad ui up`` (Prefect server + deployments + process worker) shared by the UI and deployment tests.

The tests drive Prefect through the same REST endpoints the UI calls (``UiApi``): creating a run
from a deployment, retrying a failed run, reading artifacts and logs. Both test modules use
``shared_salad_ui``: the first caller starts it, the last one to finish stops it, so a whole
session starts one server however the modules are selected.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from deployments.registry import SCHEDULES_FILE
from deployments.server import free_port, prefect_env

REPO = Path(__file__).resolve().parent.parent
# The deployments' default parameters in these tests: the pipeline at toy size (the point is
# orchestration). Stages that join the pipeline add their small settings here.
SMALL_PIPELINE = [
    "ingest.bundled_docs=300",
    "embed.max_tokens=16",
    "embed.batch_size=128",
    "teacher.hidden=32",
    "teacher.mlp=64",
    "teacher.n_layer=1",
    "teacher.train_steps=5",
    "teacher.seq_len=32",
    "teacher.batch_size=4",
    "teacher.vocab_size=1000",
    "teacher.max_tokenizer_docs=300",
    "teacher.max_train_tokens=20000",
    "teacher.max_eval_tokens=2048",
    "tts.limit=1",
    "stage1_texts.limit=1",
    "stage1_texts.max_words=30",
    "tts.ray.n_actors=1",
    "tokenize.mimi.weights=random",
    "tokenize.calibration_seconds=3.0",
]
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class SaladUi:
    home: Path
    store: Path
    port: int
    users: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> "UiApi":
        return UiApi(f"{self.url}/api")

    @property
    def hold_file(self) -> Path:
        return self.home / "hold.json"

    def hold_after(self, artifact: str, shard: int) -> Path:
        """Flow runs from now on hold (wait to be killed) right after committing this shard; returns the signal file."""
        signal = self.home / f"held-{artifact}-{shard}"
        signal.unlink(missing_ok=True)
        self.hold_file.write_text(json.dumps({"artifact": artifact, "shard": shard, "signal": str(signal)}))
        return signal

    def release_holds(self) -> None:
        self.hold_file.unlink(missing_ok=True)

    def env(self) -> dict[str, str]:
        env = prefect_env(self.home / "prefect", f"{self.url}/api")
        # poll for new flow runs every second (default 10 s): the tests wait on the worker
        env.update(PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5", SALAD_STORE=str(self.store))
        env["SALAD_HOLD_FILE"] = str(self.hold_file)  # kill tests write it to hold a stage after a given shard
        return env

    def cli(self, *args: str, timeout: float = 240) -> str:
        command = [sys.executable, "-m", "deployments.ui_cli", *args, "--home", str(self.home)]
        done = subprocess.run(command, env=self.env(), cwd=REPO, capture_output=True, text=True, timeout=timeout)
        output = done.stdout + done.stderr
        self.log.append(f"$ salad ui {' '.join(args)}\n{output}")
        if done.returncode != 0:
            raise RuntimeError(f"salad ui {args[0]} failed ({done.returncode}):\n{output}")
        return output

    @property
    def schedules(self) -> Path:
        return self.home / "schedules.yaml"

    def up(self) -> None:
        self.write_schedules()
        overrides = [arg for o in SMALL_PIPELINE for arg in ("--set", o)]
        self.cli("up", "--port", str(self.port), "--store", str(self.store), "--schedules", str(self.schedules), *overrides)

    def write_schedules(self) -> None:
        """configs/schedules.yaml with every cron moved to 03:00 on January 1st: the schedules are
        registered and queued as configured, but none fires during a test (a nightly CI at 03:00
        would otherwise meet the daily regeneration)."""
        settings = yaml.safe_load(SCHEDULES_FILE.read_text())
        for schedule in settings.get("schedules", {}).values():
            schedule["cron"] = "0 3 1 1 *"
        self.home.mkdir(parents=True, exist_ok=True)
        self.schedules.write_text(yaml.safe_dump(settings))

    def down(self) -> None:
        self.cli("down", timeout=60)

    def wait_worker_done(self, quiet: float = 2.0, timeout: float = 120) -> None:
        """Until the worker has had no child process for ``quiet`` seconds.

        After a crash the worker still runs the flow's crash hooks in a new process and then
        reports the crash itself, seconds after the run shows Crashed; a retry made before that is
        turned back into Crashed (Prefect 3.9). The gap between the attempt's exit and the hook
        process is milliseconds, hence the quiet period.
        """
        worker = json.loads((self.home / "state.json").read_text())["runner_pid"]
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet:
            if descendants(worker):
                quiet_since = time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker still has child processes after {timeout:.0f}s: {descendants(worker)}")
            time.sleep(0.05)


_shared: SaladUi | None = None


def shared_salad_ui(tmp_path_factory) -> SaladUi:
    """Start the shared UI if needed; pair every call with ``release_salad_ui``."""
    global _shared
    if _shared is None:
        root = tmp_path_factory.mktemp("salad-ui")
        ui = SaladUi(home=root / "home", store=root / "store", port=free_port())
        ui.up()
        _shared = ui
        atexit.register(_stop_if_left_running, ui)  # pytest killed mid-session: no server left behind
    _shared.users += 1
    return _shared


def release_salad_ui() -> None:
    global _shared
    if _shared is None:
        return
    _shared.users -= 1
    if _shared.users <= 0:
        _shared.down()
        _shared = None


def _stop_if_left_running(ui: SaladUi) -> None:
    if _shared is ui:
        ui.down()


class UiApi:
    """The Prefect REST calls the UI makes (see the UI's bundle: create_flow_run, set_state, filters)."""

    def __init__(self, api_url: str):
        self.http = httpx.Client(base_url=api_url, timeout=30)

    def deployment(self, flow: str, name: str) -> dict[str, Any]:
        return self._call("GET", f"/deployments/name/{flow}/{name}")

    def deployments(self) -> list[dict[str, Any]]:
        return self._call("POST", "/deployments/filter", json={})

    def run_deployment(self, flow: str, name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        """'Quick run' (defaults) or 'Custom run' (parameters) from the deployment's page."""
        body: dict[str, Any] = {"state": {"type": "SCHEDULED", "message": "Run from the Prefect UI"}}
        if parameters is not None:
            body.update(parameters=parameters, enforce_parameter_schema=True)
        deployment_id = self.deployment(flow, name)["id"]
        return self._call("POST", f"/deployments/{deployment_id}/create_flow_run", json=body)

    def retry(self, flow_run_id: str) -> None:
        """The flow run page's 'Retry' button."""
        body = {"state": {"type": "SCHEDULED", "name": "AwaitingRetry", "message": "Retry from the UI"}, "force": True}
        self._call("POST", f"/flow_runs/{flow_run_id}/set_state", json=body)

    def retry_until_running(self, flow_run_id: str, attempts: int = 5, timeout: float = 120) -> None:
        """Retry, and retry again if the retry is overwritten before a new attempt starts.

        A safety net for ``SaladUi.wait_worker_done``: a retry turned back into Crashed by the
        worker's late crash report is made again, as a person would click Retry again.
        """
        before = self.flow_run(flow_run_id)["run_count"]
        for _ in range(attempts):
            self.retry(flow_run_id)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                run = self.flow_run(flow_run_id)
                if run["run_count"] > before and run["state_type"] != "SCHEDULED":
                    return
                if run["state_type"] in FINAL:
                    break  # overwritten: retry again
                time.sleep(0.3)
            else:
                raise TimeoutError(f"flow run {flow_run_id} did not start again within {timeout:.0f}s")
        raise AssertionError(f"flow run {flow_run_id}: {attempts} retries were all overwritten")

    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        return self._call("GET", f"/flow_runs/{flow_run_id}")

    def subflow_runs(self, parent_flow_run_id: str) -> list[dict[str, Any]]:
        return self.filter_flow_runs({"flow_runs": {"parent_flow_run_id": {"any_": [parent_flow_run_id]}}})

    def wait(self, flow_run_id: str, states: set[str] = FINAL, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.flow_run(flow_run_id)
            if run["state_type"] in states:
                return run
            time.sleep(0.5)
        raise TimeoutError(f"flow run {flow_run_id} still {run['state_type']} after {timeout:.0f}s")

    def artifacts(self, flow_run_id: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        flt: dict[str, Any] = {}
        if flow_run_id:
            flt["flow_run_id"] = {"any_": [flow_run_id]}
        if key:
            flt["key"] = {"any_": [key]}
        return self._call("POST", "/artifacts/filter", json={"artifacts": flt, "sort": "CREATED_DESC"})

    def logs(self, flow_run_id: str) -> list[str]:
        """Every log line of the run (all attempts), oldest first; the API pages by 200."""
        messages: list[str] = []
        while True:
            body = {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200, "offset": len(messages)}
            page = [entry["message"] for entry in self._call("POST", "/logs/filter", json=body)]
            messages += page
            if len(page) < 200:
                return messages

    def published(self, flow_run_id: str) -> dict[str, str]:
        """The newest description of each artifact key the run published ('corpus@… (reused)')."""
        newest: dict[str, str] = {}
        for artifact in self.artifacts(flow_run_id=flow_run_id):  # newest first
            newest.setdefault(artifact["key"], artifact["description"] or "")
        return newest

    def _call(self, method: str, path: str, json: Any = None, tries: int = 6) -> Any:
        """One API call; 503 (SQLite busy under load) and dropped connections are retried, as
        Prefect's own client does."""
        for attempt in range(tries):
            try:
                response = self.http.request(method, path, json=json)
                if response.status_code not in (429, 503) or attempt == tries - 1:
                    return self._ok(response)
            except httpx.TransportError:
                if attempt == tries - 1:
                    raise
            time.sleep(0.5 * 2**attempt)

    def filter_flow_runs(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return self._call("POST", "/flow_runs/filter", json=body)

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise AssertionError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
        return response.json() if response.content else None


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc: parent ids)."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z":
                parents[int(proc.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def flow_run_pids(flow_run_id: str) -> list[int]:
    """Processes executing this flow run: the worker starts them with PREFECT__FLOW_RUN_ID set."""
    marker = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def kill_flow_run(flow_run_id: str, pids: list[int] | None = None) -> list[int]:
    """SIGKILL every process of the run: what an OOM kill or a lost machine does mid-stage.
    (Known ``pids`` are killed first, without the /proc scan's delay.)"""
    pids = list(pids or []) + [p for p in flow_run_pids(flow_run_id) if p not in (pids or [])]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids
