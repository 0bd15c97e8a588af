"""Operations in the Prefect UI that `salad ui up` serves: pauses that stay, runs that end.

A `salad ui up` of its own (real server, deployments, process worker on 127.0.0.1), since these
tests take it down and up again; driven through the REST calls the UI makes (tests/prefect_server.py).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deployments.server import free_port
from tests.prefect_server import SMALL_PIPELINE, SaladUi, flow_run_pids, kill_flow_run
from tests.test_deployments_e2e import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("ops-ui")
    ui = SaladUi(home=root / "home", store=root / "store", port=free_port())
    ui.up()
    yield ui
    ui.down()


def test_a_schedule_or_deployment_paused_in_the_ui_stays_paused_across_down_and_up(ui: SaladUi):
    regenerate = ui.api.deployment("salad-regenerate", "regenerate")
    [schedule] = regenerate["schedules"]
    assert schedule["active"] and not ui.api.deployment("salad-pipeline", "pipeline")["paused"]
    # the schedule's toggle on the regenerate page, and the pipeline deployment's own toggle
    ui.api._call("PATCH", f"/deployments/{regenerate['id']}/schedules/{schedule['id']}", json={"active": False})
    ui.api._call("POST", f"/deployments/{ui.api.deployment('salad-pipeline', 'pipeline')['id']}/pause_deployment")

    ui.down()
    ui.up()
    regenerate = ui.api.deployment("salad-regenerate", "regenerate")
    [schedule] = regenerate["schedules"]  # the redeploy made it anew, paused
    assert schedule["active"] is False
    assert ui.api.deployment("salad-pipeline", "pipeline")["paused"] is True
    assert ui.api.deployment("salad-ingest", "ingest")["paused"] is False  # what nobody paused stays on
    status = ui.cli("status")
    assert "(paused)" in status and "reconciler (marks runs of killed processes Crashed): running" in status, status

    # switched back on in the UI: a redeploy keeps it on
    ui.api._call("PATCH", f"/deployments/{regenerate['id']}/schedules/{schedule['id']}", json={"active": True})
    ui.api._call("POST", f"/deployments/{ui.api.deployment('salad-pipeline', 'pipeline')['id']}/resume_deployment")
    ui.cli("deploy", "--store", str(ui.store), "--schedules", str(ui.schedules), *[a for o in SMALL_PIPELINE for a in ("--set", o)])
    assert [s["active"] for s in ui.api.deployment("salad-regenerate", "regenerate")["schedules"]] == [True]
    assert ui.api.deployment("salad-pipeline", "pipeline")["paused"] is False


def test_a_killed_and_retried_run_leaves_no_task_run_running(ui: SaladUi):
    params = ui.api.deployment("salad-ingest", "ingest")["parameters"]
    params["ingest"].update(bundled_docs=300, shard_rows=50)
    run_id = ui.api.run_deployment("salad-ingest", "ingest", params)["id"]
    held = ui.hold_after("corpus", 0)
    pids = wait_for(lambda: flow_run_pids(run_id), "the flow run's process", every=0.1)
    wait_for(held.exists, "the ingest held after corpus shard 0", every=0.05)
    assert running_task_runs(ui, run_id), "the ingest task run is Running while held"
    kill_flow_run(run_id, pids)
    ui.release_holds()
    assert ui.api.wait(run_id)["state_type"] == "CRASHED"
    ui.wait_worker_done()

    ui.api.retry_until_running(run_id)
    assert ui.api.wait(run_id)["state_type"] == "COMPLETED"
    # the killed attempt's task run was Running for ever (Prefect 3.9); the reconciler of `salad ui up` ends it
    wait_for(lambda: not running_task_runs(ui, run_id), "no task run of the finished run left Running", timeout=60, every=1)
    crashed = [t for t in task_runs(ui, run_id) if t["state_type"] == "CRASHED"]
    assert crashed and all("salad's run reconciliation" in t["state"]["message"] for t in crashed), crashed


def task_runs(ui: SaladUi, flow_run_id: str) -> list[dict]:
    return ui.api._call("POST", "/task_runs/filter", json={"task_runs": {"flow_run_id": {"any_": [flow_run_id]}}})


def running_task_runs(ui: SaladUi, flow_run_id: str) -> list[dict]:
    return [t for t in task_runs(ui, flow_run_id) if t["state_type"] in ("RUNNING", "PENDING")]


def test_alerts_are_declared_with_the_deployments_and_a_failed_regeneration_reaches_a_webhook(ui: SaladUi, tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from deployments.registry import QUARANTINE_ALERT, REGENERATION_ALERT, AlertSettings, declare_alerts
    from deployments.server import _drain_prefect_workers
    from storage import ArtifactRef
    from tasks.alerts import report_quarantine_rate

    names = {a["name"]: a for a in ui.api._call("POST", "/automations/filter", json={})}
    assert {REGENERATION_ALERT, QUARANTINE_ALERT} <= set(names)  # `salad ui up` declared them
    assert names[REGENERATION_ALERT]["enabled"] and names[REGENERATION_ALERT]["actions"][0]["type"] == "do-nothing"

    with webhook() as (url, received), temporary_settings(updates={PREFECT_API_URL: f"{ui.url}/api"}):
        declare_alerts(AlertSettings(webhook_url=url))  # what settings `alerts: {webhook_url: ...}` makes `up` do
        params = ui.api.deployment("salad-regenerate", "regenerate")["parameters"]
        params["config"]["ingest"].update(source="fineweb", paths=[f"{tmp_path}/missing/*.parquet"])
        run = ui.api.run_deployment("salad-regenerate", "regenerate", params)
        assert ui.api.wait(run["id"])["state_type"] == "FAILED"
        alert = wait_for(lambda: next((r for r in received if "regeneration" in r["subject"]), None), "the regeneration alert", timeout=90, every=0.5)
        assert alert["subject"].endswith("ended Failed") and run["name"] in alert["subject"], alert
        assert "no such file" in alert["body"] and run["id"] in alert["body"], alert

        # Prefect's events worker is one per process, bound to the API it first sent to: an earlier
        # test of this session may have emitted to another server, so start it afresh on this one
        _drain_prefect_workers()
        assert report_quarantine_rate("ingest", ArtifactRef(name="corpus_quarantine", fingerprint="f00d"), kept=90, quarantined=10, threshold=0.05)
        assert report_quarantine_rate("ingest", ArtifactRef(name="corpus_quarantine", fingerprint="f00d"), kept=99, quarantined=1, threshold=0.05) is None
        _drain_prefect_workers()
        alert = wait_for(lambda: next((r for r in received if "quarantined" in r["subject"]), None), "the quarantine alert", timeout=90, every=0.5)
        assert alert["subject"] == "SALAD: stage ingest quarantined 10.0% of its rows", alert
        assert "10 of 100 rows quarantined (threshold 5.0%); see corpus_quarantine@f00d" in alert["body"], alert


@contextmanager
def webhook():
    """An HTTP endpoint on 127.0.0.1 that keeps every JSON body POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alerts", received
    finally:
        server.shutdown()
