"""Deployments end to end, driven through the REST calls the Prefect UI makes.

``salad ui up`` (a real Prefect server on 127.0.0.1, every deployment, a process worker) starts
once for these tests and the browser tests (tests/prefect_server.py). Runs are created the way
the UI's Run button creates them. A run killed mid-stage is retried the way its Retry button
retries it, and must redo neither finished stages nor committed shards.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from datetime import datetime
from pathlib import Path

import pytest

from deployments.registry import DEPLOYABLES, load_deployment_settings
from deployments.regenerate import WHAT_CHANGED_KEY
from flows.config import PipelineConfig
from storage import ArtifactRef, ArtifactStore
from tasks.ingest import ingest_specs
from tasks.publish import prefect_key
from tests.fineweb_files import real_rows, write_fineweb
from tests.prefect_server import SaladUi, flow_run_pids, kill_flow_run, release_salad_ui, shared_salad_ui

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def ui(tmp_path_factory):
    ui = shared_salad_ui(tmp_path_factory)
    yield ui
    release_salad_ui()


def test_every_flow_is_deployed_with_a_typed_form_and_the_configured_schedule(ui: SaladUi):
    settings = load_deployment_settings(ui.schedules)  # configs/schedules.yaml, crons moved to January 1st
    for item in DEPLOYABLES:
        flow = item.load_flow()
        deployment = ui.api.deployment(flow.name, item.name)
        assert deployment["entrypoint"] == item.flow and deployment["work_pool_name"] == settings.work_pool.name
        schema = deployment["parameter_openapi_schema"]
        assert set(schema["properties"]) == set(inspect.signature(flow.fn).parameters)
    pipeline = ui.api.deployment("salad-pipeline", "pipeline")
    # the form: nested pydantic models with their descriptions, defaults from the preset + overrides
    ingest_form = pipeline["parameter_openapi_schema"]["definitions"]["IngestConfig"]["properties"]
    assert ingest_form["shard_rows"]["description"] == "Rows per output shard: the unit of resume."
    config = PipelineConfig.model_validate(pipeline["parameters"]["config"])
    assert config.ingest.bundled_docs == 300 and config.store.uri == str(ui.store)

    regenerate = ui.api.deployment("salad-regenerate", "regenerate")
    configured = settings.schedules["regenerate"]
    [schedule] = regenerate["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"], schedule["active"]) == (
        configured.cron,
        configured.timezone,
        configured.active,
    )
    # the server's scheduler has queued the next runs exactly at the cron's times
    query = {"flow_runs": {"deployment_id": {"any_": [regenerate["id"]]}, "state": {"type": {"any_": ["SCHEDULED"]}}}}
    queued = wait_for(lambda: ui.api.filter_flow_runs({**query, "sort": "EXPECTED_START_TIME_ASC"}), "scheduled runs", every=1)
    expected = cron_dates(configured.cron, configured.timezone, len(queued))
    assert [datetime.fromisoformat(r["expected_start_time"]).timestamp() for r in queued] == expected

    status = ui.cli("status")
    assert "salad-regenerate/regenerate" in status and configured.cron in status


def cron_dates(cron: str, timezone: str, n: int) -> list[float]:
    from prefect.server.schemas.schedules import CronSchedule

    return [d.timestamp() for d in asyncio.run(CronSchedule(cron=cron, timezone=timezone).get_dates(n=n))]


def test_regeneration_skips_unchanged_inputs_and_reports_a_new_snapshot(ui: SaladUi, shared_data: Path, tmp_path: Path):
    rows = real_rows(shared_data)
    snapshot = tmp_path / "fineweb-edu"
    write_fineweb(snapshot / "000_00000.parquet", rows[:100])
    params = ui.api.deployment("salad-regenerate", "regenerate")["parameters"]
    params["config"]["ingest"].update(source="fineweb", paths=[f"{snapshot}/*.parquet"])
    params["config"]["stage1_texts"]["url_contains"] = []  # the default slice names bundled-corpus topics
    store = ArtifactStore.open(str(ui.store))

    first = run_to_completion(ui, "salad-regenerate", "regenerate", params)
    [pipeline_run] = ui.api.subflow_runs(first)
    # the store has every stage's version, made by this run's pipeline subflow
    corpus = store.get("corpus@" + what_changed(ui, first)["corpus"]["now"])
    assert corpus.manifest.run_context["flow_run_id"] == pipeline_run["id"]
    assert corpus.manifest.params["inputs"][0]["url"].endswith("000_00000.parquet")
    # the UI shows a summary per artifact (keyed by name) and the lineage overview on the pipeline run
    published = {a["key"]: a for a in ui.api.artifacts(flow_run_id=pipeline_run["id"])}
    assert {prefect_key(n) for n in store.names()} <= set(published) and "salad-lineage" in published
    assert f"corpus@{corpus.manifest.fingerprint}" in published["salad-lineage"]["data"]
    assert str(ui.store / "corpus" / corpus.manifest.fingerprint) in published["salad-corpus"]["data"]

    versions_before = version_folders(ui.store)
    # the same inputs again, triggered from the shell this time: everything is reused
    output = ui.cli(
        "run",
        "regenerate",
        "--set",
        "ingest.source=fineweb",
        "--set",
        f"ingest.paths=[{snapshot}/*.parquet]",
        "--set",
        "stage1_texts.url_contains=[]",
        "--wait",
    )
    second = re.search(r"flow run \S+ \(([0-9a-f-]{36})\)", output).group(1)
    assert "COMPLETED" in output and "salad-what-changed: regenerate: " in output, output
    report = what_changed(ui, second)
    assert report and all(row["change"].startswith("unchanged") for row in report.values()), report
    assert version_folders(ui.store) == versions_before  # nothing recomputed, nothing written

    write_fineweb(snapshot / "000_00001.parquet", rows[100:])  # a new snapshot: one more file
    third = run_to_completion(ui, "salad-regenerate", "regenerate", params)
    report = what_changed(ui, third)
    row = report["corpus"]
    assert row["change"] == "new version" and row["previous"] == corpus.manifest.fingerprint[:12]
    assert "parameter inputs: 1 → 2 file(s): 1 added" in row["why"] and "000_00001.parquet" in row["why"]
    assert report["tokenizer"]["change"] == "new version" and "input corpus" in report["tokenizer"]["why"]
    assert len(store.versions("corpus")) == len([v for v in versions_before if v.startswith("corpus/")]) + 1


def test_a_killed_run_retried_from_the_ui_redoes_no_finished_stage_or_shard(ui: SaladUi):
    params = ui.api.deployment("salad-pipeline", "pipeline")["parameters"]
    params["config"]["ingest"].update(bundled_docs=800, shard_rows=20)  # 40 small shards: time to kill it mid-stage
    corpus = ingest_specs(PipelineConfig.model_validate(params["config"]).ingest)[0]
    corpus_dir = ui.store / corpus.name / corpus.fingerprint
    run_id = ui.api.run_deployment("salad-pipeline", "pipeline", params)["id"]

    # 1. killed mid-ingest, held right after its first shard committed (a known point, not a race)
    held = ui.hold_after("corpus", 0)
    pids = wait_for(lambda: flow_run_pids(run_id), "the flow run's process", every=0.1)
    wait_for(held.exists, "the ingest held after corpus shard 0", every=0.05)
    kill_flow_run(run_id, pids)
    assert not (corpus_dir / "manifest.json").exists(), "the ingest finished before the kill"
    corpus_shards = committed_shards(corpus_dir)
    assert set(corpus_shards) == {0}
    assert ui.api.wait(run_id)["state_type"] == "CRASHED"
    ui.wait_worker_done()

    # 2. retried from the UI: ingest resumes and finishes; killed again after the first shard of the
    # embeddings (a multi-shard stage after ingest)
    embed_spec = embed_spec_for(params)
    version = ui.store / embed_spec.name / embed_spec.fingerprint
    held = ui.hold_after("embeddings", 0)
    ui.api.retry_until_running(run_id)
    pids = wait_for(lambda: flow_run_pids(run_id), "the retried flow run's process", every=0.1)
    wait_for(held.exists, "the embeddings held after shard 0", every=0.05)
    kill_flow_run(run_id, pids)
    ui.release_holds()
    assert (corpus_dir / "manifest.json").exists() and not (version / "manifest.json").exists(), version
    # the corpus shards committed before the first kill are in the version as they were: not written again
    manifest = ArtifactStore.open(str(ui.store)).manifest(corpus.name, corpus.fingerprint)
    assert {s.file for s in manifest.shards if s.shard in corpus_shards} == {r["file"] for r in corpus_shards.values()}
    assert unchanged(corpus_dir, corpus_shards)
    finished = {v: files(v, "**/*") for v in committed_versions(ui.store)}  # every stage done before the kill
    stage_shards = committed_shards(version)
    assert set(stage_shards) == {0}
    assert ui.api.wait(run_id)["state_type"] == "CRASHED"
    ui.wait_worker_done()

    # 3. retried again: finished stages are reused untouched, the interrupted one resumes, the run completes
    ui.api.retry_until_running(run_id)
    run = ui.api.wait(run_id)
    assert run["state_type"] == "COMPLETED" and run["run_count"] >= 3, run["state"]
    assert {v: files(v, "**/*") for v in finished} == finished
    assert (version / "manifest.json").exists() and unchanged(version, stage_shards)
    # (a killed attempt's last log lines may never reach the API; the worker's output has them all)
    worker_log = (ui.home / "worker.log").read_text()
    assert f"corpus@{corpus.fingerprint}: resuming, {len(corpus_shards)} shard(s) already committed" in worker_log
    assert f"{version.parent.name}@{version.name}: resuming, {len(stage_shards)} shard(s) already committed" in worker_log
    published = ui.api.published(run_id)  # what the UI shows for the last attempt
    assert published["salad-corpus"] == f"corpus@{corpus.fingerprint} (reused)"

    # 4. a new run with the same parameters recomputes nothing at all
    before = files(ui.store, "**/*")
    again = run_to_completion(ui, "salad-pipeline", "pipeline", params)
    assert files(ui.store, "**/*") == before
    new = [d for d in ui.api.published(again).values() if d.endswith("(new)")]
    assert new == [] and "salad-corpus" in ui.api.published(again)


def embed_spec_for(params: dict):
    """The embeddings version the pipeline run with `params` will write."""
    from tasks.embed import embed_spec

    config = PipelineConfig.model_validate(params["config"])
    corpus_spec = ingest_specs(config.ingest)[0]
    return embed_spec(ArtifactRef(name=corpus_spec.name, fingerprint=corpus_spec.fingerprint), config.embed)


def committed_shards(version: Path) -> dict[int, dict]:
    """Shard index -> commit record (which names the data file) of a version folder."""
    return {int(p.stem): {**json.loads(p.read_text()), "stat": stat(p)} for p in version.glob("shards/*.json")}


def unchanged(version: Path, shards: dict[int, dict]) -> bool:
    """The shard records and their data files are still the very files written before."""
    return all(stat(version / "shards" / f"{i:06d}.json") == r["stat"] and (version / r["file"]).exists() for i, r in shards.items())


def committed_versions(store: Path) -> list[Path]:
    return [m.parent for m in store.glob("*/*/manifest.json")]


def stat(path: Path) -> tuple[int, int]:
    s = path.stat()
    return (s.st_mtime_ns, s.st_size)


# -- helpers ------------------------------------------------------------------------------------
def run_to_completion(ui: SaladUi, flow: str, deployment: str, parameters: dict | None = None) -> str:
    run = ui.api.run_deployment(flow, deployment, parameters)
    final = ui.api.wait(run["id"])
    if final["state_type"] != "COMPLETED":
        logs = "\n".join(ui.api.logs(run["id"])[-30:])
        pytest.fail(f"{flow}/{deployment} ended {final['state_type']}: {final['state']['message']}\n{logs}")
    return run["id"]


def what_changed(ui: SaladUi, flow_run_id: str) -> dict[str, dict[str, str]]:
    """The what-changed table of a regeneration run, by artifact name; "why" holds the reasons in
    full (the table cell has their headlines, the list under it the values)."""
    [artifact] = ui.api.artifacts(flow_run_id=flow_run_id, key=WHAT_CHANGED_KEY)
    rows: dict[str, dict[str, str]] = {}
    current = None
    for line in artifact["data"].replace("\u200b", "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] not in ("artifact", "---"):
            name, change, previous, now, why = cells
            name = re.sub(r"^\[(.+?)\]\(.*\)$", r"\1", name)
            rows[name] = {"change": change, "previous": previous.strip("`"), "now": now.strip("`"), "why": why}
        elif match := re.match(r"- \*\*(.+)\*\*$", line):
            current = rows[match.group(1)]
            current["why"] = ""
        elif current is not None and line.startswith("  - "):
            current["why"] += line[4:] + "\n"
    return rows


def version_folders(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.glob("*/*") if p.is_dir() and not p.parts[-2].startswith("_")}


def files(root: Path, pattern: str) -> dict[str, tuple[int, int]]:
    """Files under ``root`` matching ``pattern`` with (mtime ns, size): rewritten files show up."""
    return {str(p.relative_to(root)): stat(p) for p in root.glob(pattern) if p.is_file() and not str(p.relative_to(root)).startswith("_runs")}


def wait_for(condition, what: str, timeout: float = 180, every: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"waited {timeout:.0f}s for {what}")
