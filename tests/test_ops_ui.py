"""Operations in the Prefect UI that `salad ui up` serves: pauses that stay, runs that end.

A `salad ui up` of its own (real server, deployments, process worker on 127.0.0.1), since these
tests take it down and up again; driven through the REST calls the UI makes (tests/prefect_server.py).
"""

from __future__ import annotations

import pytest

from deployments.server import free_port
from tests.prefect_server import SaladUi, flow_run_pids, kill_flow_run
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
    assert "(paused)" in ui.cli("status")

    # switched back on in the UI: the next `up` keeps it on
    ui.api._call("PATCH", f"/deployments/{regenerate['id']}/schedules/{schedule['id']}", json={"active": True})
    ui.api._call("POST", f"/deployments/{ui.api.deployment('salad-pipeline', 'pipeline')['id']}/resume_deployment")
    ui.down()
    ui.up()
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
