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
from flows.store_lock import store_lock
from storage import ArtifactRef, ArtifactStore
from tasks.embed import embed_spec
from tasks.ingest import ingest_specs
from tasks.teacher import teacher_spec, tokenizer_spec

WHAT_CHANGED_KEY = "salad-what-changed"


@flow(name="salad-regenerate", log_prints=True)
def regenerate_flow(config: PipelineConfig = PipelineConfig()) -> WhatChanged:
    """Run the pipeline; report, per artifact, what changed since the previous regeneration."""
    started_at = now_utc()
    get_run_logger().info(reuse_outlook(config))  # the retry dialog warns of re-runs: say what the store already holds
    with store_lock(config.store, get_run_logger()):  # never beside a manual run on the same store
        outputs = pipeline_flow(config)
        store = ArtifactStore.open(config.store)
        lane = deployment.get_name() or "local"
        refs = with_upstream(store, collect_refs(outputs))
        report = what_changed(store, lane, refs, started_at, flow_run_id=str(flow_run.get_id() or "") or None)
        create_markdown_artifact(report.markdown(), key=WHAT_CHANGED_KEY, description=report.summary())
        save_run_record(store, report.record)
        get_run_logger().info("what changed: %s", report.summary())
    return report


def reuse_outlook(config: PipelineConfig) -> str:
    """What the store already holds of this run's first stages, which they will reuse, in one line.

    Cheap: the fingerprints of the chain corpus → embeddings, tokenizer → teacher (the embedded one)
    follow from the parameters and the input files' listing alone; later stages' depend on data, and each says
    "reused" or "resuming" as it starts.
    """
    store = ArtifactStore.open(config.store)
    try:
        corpus_spec = ingest_specs(config.ingest)[0]
    except Exception as exc:  # noqa: BLE001 - the ingest stage reports a bad input properly
        return f"store {store.uri}: could not tell what will be reused ({type(exc).__name__}: {exc})"
    corpus = ArtifactRef(name=corpus_spec.name, fingerprint=corpus_spec.fingerprint)
    specs = [corpus_spec, embed_spec(corpus, config.embed)]
    if config.teacher.source == "embedded":  # a pretrained checkpoint's identity hashes its files: not cheap
        tokenizer = tokenizer_spec(corpus, config.teacher)
        specs += [tokenizer, teacher_spec(corpus, ArtifactRef(name=tokenizer.name, fingerprint=tokenizer.fingerprint), config.teacher)]
    held = [spec.name for spec in specs if store.find(spec) is not None]
    return (
        f"store {store.uri} already holds {len(held)} of the {len(specs)} versions this run's first stages need"
        f" ({', '.join(held) or 'none'}): they will be reused, not recomputed; a stage cut short resumes after its"
        " committed shards, and each later stage says whether it reuses its version"
    )
