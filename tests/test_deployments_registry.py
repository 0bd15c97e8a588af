"""The deployment registry: one declaration per flow, typed forms, defaults from the preset, schedules from config."""

from __future__ import annotations

import inspect

import pytest

from deployments.registry import (
    DEPLOYABLES,
    REPO_ROOT,
    SCHEDULES_FILE,
    DeploymentSettings,
    ScheduleSettings,
    WorkPoolSettings,
    build_deployments,
    default_parameters,
    load_deployment_settings,
)
from flows.config import load_config


def test_every_deployable_flow_imports_and_has_one_name():
    names = [d.name for d in DEPLOYABLES]
    flows = [d.load_flow().name for d in DEPLOYABLES]
    assert len(set(names)) == len(names) and len(set(flows)) == len(flows)
    assert {"salad", "pipeline", "ingest", "tts", "natural-speech", "stage", "regenerate"} <= set(names)


def test_default_parameters_come_from_the_config_by_parameter_name(tmp_path):
    cfg = load_config("tiny", [f"store.uri={tmp_path}/relative/../store", "ingest.bundled_docs=123"])
    by_name = {d.name: d.load_flow() for d in DEPLOYABLES}
    pipeline = default_parameters(by_name["pipeline"], cfg)
    assert list(pipeline) == ["config"] and pipeline["config"]["ingest"]["bundled_docs"] == 123
    assert pipeline["config"]["store"]["uri"] == str(tmp_path / "store")  # absolute: a worker runs elsewhere
    ingest = default_parameters(by_name["ingest"], cfg)
    assert set(ingest) == {"ingest", "store"} and ingest["ingest"] == pipeline["config"]["ingest"]


def test_deployments_have_typed_forms_schedules_and_the_work_pool():
    settings = DeploymentSettings(
        schedules={"regenerate": ScheduleSettings(cron="30 2 * * 1", timezone="Europe/Paris")},
        work_pool=WorkPoolSettings(name="gpu-docker", type="docker", job_variables={"image": "salad:1", "env": {"SALAD_STORE": "s3://salad/3b"}}),
    )
    built = {d.name: d for d in build_deployments(load_config("tiny"), settings)}
    assert set(built) == {d.name for d in DEPLOYABLES}
    for item in DEPLOYABLES:
        deployment = built[item.name]
        assert deployment.entrypoint == item.flow and deployment.work_pool_name == "gpu-docker"
        assert deployment.job_variables == {"image": "salad:1", "env": {"SALAD_STORE": "s3://salad/3b"}}  # no local working_dir
        schema = deployment._parameter_openapi_schema.model_dump()
        assert set(schema["properties"]) == set(inspect.signature(item.load_flow().fn).parameters)
    form = built["pipeline"]._parameter_openapi_schema.model_dump()["definitions"]
    assert form["IngestConfig"]["properties"]["shard_rows"]["default"] == 1000
    assert form["IngestConfig"]["properties"]["shard_rows"]["description"]
    [schedule] = built["regenerate"].schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("30 2 * * 1", "Europe/Paris", True)
    assert built["pipeline"].schedules == []


def test_process_pool_runs_in_the_checkout_and_serve_mode_has_no_pool():
    process = {d.name: d for d in build_deployments(load_config("tiny"), DeploymentSettings())}
    assert all(d.job_variables == {"working_dir": str(REPO_ROOT)} for d in process.values())
    served = build_deployments(load_config("tiny"), DeploymentSettings(), work_pool=False)
    assert all(d.work_pool_name is None and not d.job_variables for d in served)


def test_schedules_file(tmp_path):
    settings = load_deployment_settings()
    assert settings.schedules["regenerate"].cron and settings.work_pool.type == "process"
    assert load_deployment_settings(SCHEDULES_FILE) == settings
    bad = tmp_path / "schedules.yaml"
    bad.write_text("schedules:\n  nightly-typo:\n    cron: '0 3 * * *'\n")
    with pytest.raises(ValueError, match="unknown deployments \\['nightly-typo'\\]"):
        load_deployment_settings(bad)
    bad.write_text("schedules:\n  regenerate:\n    cron: '61 * * *'\n")
    with pytest.raises(ValueError, match="Invalid cron string"):
        load_deployment_settings(bad)
