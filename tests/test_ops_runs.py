"""Operations, as the `salad` CLI meets them: one clear error line, no orphaned server, no run Running for ever.

Every test drives the real ``salad`` entry point in a subprocess against a real Prefect server on
127.0.0.1 (its own, or the temporary one the CLI starts), and kills with SIGKILL as an OOM killer
or a closed terminal would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deployments.server import PrefectServer, free_port, pid_alive, prefect_env
from tests.prefect_server import descendants
from tests.test_deployments_e2e import wait_for

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
SALAD = [sys.executable, "-c", "from deployments.cli import main; main()"]
SMALL_INGEST = ["--set", "ingest.bundled_docs=300", "--set", "ingest.shard_rows=50"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = PrefectServer(tmp_path_factory.mktemp("prefect"), free_port(), ui=False).start()
    yield server
    server.stop()


def salad(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([*SALAD, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def api(server: PrefectServer, path: str, body: dict | None = None):
    response = httpx.post(f"{server.api_url}{path}", json=body or {}, timeout=30) if body is not None else httpx.get(f"{server.api_url}{path}", timeout=30)
    response.raise_for_status()
    return response.json()


def test_a_failing_flow_prints_one_clear_line_and_its_traceback_stays_in_prefect(server, tmp_path):
    env = prefect_env(server.home, server.api_url)
    bad = f"{tmp_path}/no-such-snapshot/*.parquet"
    args = ["run", "ingest", "--store", str(tmp_path / "store"), "--set", "ingest.source=fineweb", "--set", f"ingest.paths=[{bad}]"]

    done = salad(args, env)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and 'File "' not in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) <= 12, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: InputFileError: {bad}: no such file (or the glob matched nothing)"], done.stderr

    # the run's logs in Prefect (what the UI shows) keep the whole traceback
    [run] = api(server, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
    assert run["state_type"] == "FAILED"
    logs = [entry["message"] for entry in api(server, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}})]
    assert any("Traceback (most recent call last)" in m and "InputFileError" in m for m in logs), logs

    debug = salad([*args, "--debug"], env)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr, debug.stderr


def test_a_killed_driver_takes_its_temporary_server_and_the_next_run_marks_its_runs_crashed(tmp_path):
    home, store = tmp_path / "prefect-home", tmp_path / "store"
    env = prefect_env(home, None)  # no API configured: the CLI starts a temporary server
    hold, held = tmp_path / "hold.json", tmp_path / "held"
    hold.write_text(json.dumps({"artifact": "corpus", "shard": 0, "signal": str(held)}))
    env["SALAD_HOLD_FILE"] = str(hold)
    driver = subprocess.Popen(
        [*SALAD, "run", "ingest", "--store", str(store), *SMALL_INGEST], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(held.exists, "the ingest held after corpus shard 0", timeout=180)
        servers = [p for p in descendants(driver.pid) if b"server\0start" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(servers) == 1, descendants(driver.pid)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    started = time.monotonic()
    wait_for(lambda: not pid_alive(servers[0]), "the temporary server to die with its driver", timeout=15)
    print(f"temporary server gone {time.monotonic() - started:.1f}s after its driver was killed")

    # the next run reconciles: the killed run and its task run are Crashed, and it resumes the corpus
    hold.unlink()
    again = salad(["run", "ingest", "--store", str(store), *SMALL_INGEST], env)
    assert again.returncode == 0, again.stderr
    assert "marked Crashed: 1 flow run(s) whose process is gone, 1 task run(s) of ended runs" in again.stdout, again.stdout

    server = PrefectServer(home, free_port(), ui=False).start()
    try:
        runs = api(server, "/flow_runs/filter", {"sort": "START_TIME_ASC"})
        assert [r["state_type"] for r in runs] == ["CRASHED", "COMPLETED"], runs
        assert "its process" in runs[0]["state"]["message"] and "is gone" in runs[0]["state"]["message"]
        tasks = api(server, "/task_runs/filter", {"task_runs": {"flow_run_id": {"any_": [runs[0]["id"]]}}})
        assert tasks and {t["state_type"] for t in tasks} == {"CRASHED"}, tasks
    finally:
        server.stop()


def test_a_temporary_server_outlives_nothing_when_its_parent_is_killed_before_the_run(tmp_path):
    """The watchdog alone (no parent-death signal: the server is started from a thread that lives on)."""
    code = (
        "import threading, time\n"
        "from pathlib import Path\n"
        "from deployments.server import PrefectServer, free_port\n"
        f"home = Path({str(tmp_path)!r})\n"
        "def start():\n"
        "    s = PrefectServer(home, free_port(), die_with_parent=True, ui=False).start()\n"
        "    (home / 'pid').write_text(str(s.process.pid))\n"
        "threading.Thread(target=start).start()\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=prefect_env(tmp_path, None))
    try:
        pid = int(wait_for(lambda: (tmp_path / "pid").exists() and (tmp_path / "pid").read_text(), "the server", timeout=180))
        assert pid_alive(pid)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    started = time.monotonic()
    wait_for(lambda: not pid_alive(pid), "the watchdog to stop the server", timeout=15)
    print(f"watchdog stopped the server {time.monotonic() - started:.1f}s after its parent was killed")
