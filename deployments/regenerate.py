"""Flow: data regeneration, the pipeline run on a schedule, with a report of what changed.

Run it:
    salad ui up                                            # deploys it with the cron schedule of configs/schedules.yaml
    prefect deployment run salad-regenerate/regenerate     # or "Run" on the deployment in the UI
or from Python: ``regenerate_flow(load_config("tiny"))``.

Every stage reuses its committed version when inputs, parameters and code are unchanged, so a
scheduled run on unchanged inputs recomputes nothing. A new FineWeb-Edu snapshot (other files,
sizes or ETags) or a new checkpoint changes the fingerprints of the stages that read them and of
everything downstream; the ``salad-what-changed`` artifact lists each artifact as unchanged or as
a new version (old → new fingerprint) with the reason.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import deployment, flow_run

from deployments.what_changed import WhatChanged, collect_refs, now_utc, save_run_record, what_changed, with_upstream
from flows.config import PipelineConfig
from flows.pipeline import pipeline_flow
from storage import ArtifactStore

WHAT_CHANGED_KEY = "salad-what-changed"


@flow(name="salad-regenerate", log_prints=True)
def regenerate_flow(config: PipelineConfig = PipelineConfig()) -> WhatChanged:
    """Run the pipeline; report, per artifact, what changed since the previous regeneration."""
    started_at = now_utc()
    outputs = pipeline_flow(config)
    store = ArtifactStore.open(config.store)
    lane = deployment.get_name() or "local"
    refs = with_upstream(store, collect_refs(outputs))
    report = what_changed(store, lane, refs, started_at, flow_run_id=str(flow_run.get_id() or "") or None)
    create_markdown_artifact(report.markdown(), key=WHAT_CHANGED_KEY, description=report.summary())
    save_run_record(store, report.record)
    get_run_logger().info("what changed: %s", report.summary())
    return report
