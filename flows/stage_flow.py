"""Flow: one named stage on given parent versions, e.g. re-cluster with another K from the UI.

Run it:
    salad ui run stage                       # then, in the UI: the "stage" deployment's form
    salad stage cluster --set cluster.k=8                              # newest corpus and embeddings
    salad stage cluster --parent corpus@3f2a --parent embeddings@9c1e --set cluster.k=8
or from Python: ``stage_flow("cluster", {"corpus": "corpus@3f2a"}, load_config("tiny", ["cluster.k=8"]))``.

The stage reads its section of ``config`` (``cluster`` for cluster, ``teacher`` for the tokenizer
and the teacher, ...) and the store in ``config.store``; other sections are ignored. A parent not
given is the newest committed version of that artifact. The stage makes a new version when its
parameters or parents differ from every committed one, and reuses the committed one otherwise,
as in the pipeline: the pipeline's own versions are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from flows.config import PipelineConfig
from flows.store_lock import store_lock
from storage import ArtifactNotFound, ArtifactRef, ArtifactStore
from tasks.cluster import cluster_corpus
from tasks.embed import embed_corpus
from tasks.ingest import ingest_corpus
from tasks.probe import build_probe_texts
from tasks.publish import publish_lineage_overview
from tasks.teacher import build_teacher, build_tokenizer
from tasks.text_selection import select_corpus_texts


@dataclass(frozen=True)
class Stage:
    """A stage task called as ``task(*parents, config_section, store)``, the order every stage task takes."""

    task: Callable[..., Any]
    parents: tuple[str, ...]  # artifact names, in the task's argument order
    section: str  # the PipelineConfig section with its parameters


STAGES: dict[str, Stage] = {
    "ingest": Stage(ingest_corpus, (), "ingest"),
    "embed": Stage(embed_corpus, ("corpus",), "embed"),
    "cluster": Stage(cluster_corpus, ("corpus", "embeddings"), "cluster"),
    "tokenizer": Stage(build_tokenizer, ("corpus",), "teacher"),
    "teacher": Stage(build_teacher, ("corpus", "tokenizer"), "teacher"),
    "stage1_texts": Stage(select_corpus_texts, ("corpus", "assignments"), "stage1_texts"),
    "probe_texts": Stage(build_probe_texts, ("corpus", "assignments"), "probe"),
}
StageName = Enum("StageName", {name: name for name in STAGES}, type=str)  # the UI form's drop-down


class StageRun(BaseModel):
    stage: str
    parents: dict[str, ArtifactRef]
    outputs: dict[str, Any] = Field(description="What the stage returned: references to the versions made or reused.")


def resolve_parents(store: ArtifactStore, stage: str, given: dict[str, str]) -> dict[str, ArtifactRef]:
    """Each parent the stage needs: the given ``NAME@FINGERPRINT`` (a prefix is enough), else the newest."""
    needed = STAGES[stage].parents
    unknown = sorted(set(given) - set(needed))
    if unknown:
        raise ValueError(f"stage {stage} takes parents {list(needed) or 'none'}, not {unknown}")
    refs = {}
    for name in needed:
        ref = given.get(name) or name
        if ref.split("@", 1)[0] != name:
            raise ValueError(f"parent {name} of stage {stage} must be a version of {name!r}, not {ref!r}")
        try:
            refs[name] = store.get(ref).ref
        except ArtifactNotFound as exc:
            raise ValueError(f"stage {stage} needs {name}: {exc} (run the stage that makes it first)") from None
    return refs


@flow(name="salad-stage", log_prints=True)
def stage_flow(
    stage: StageName = StageName.cluster,
    parents: dict[str, str] = {},  # noqa: B006 - Prefect reads the default into the UI form; never mutated
    config: PipelineConfig = PipelineConfig(),
) -> StageRun:
    """Run one stage on the given parent versions (NAME@FINGERPRINT; newest when left out)."""
    name = StageName(stage).value
    spec = STAGES[name]
    log = get_run_logger()
    with store_lock(config.store, log):
        refs = resolve_parents(ArtifactStore.open(config.store), name, parents)
        section = getattr(config, spec.section)
        log.info(
            "stage %s on %s with %s: %s",
            name,
            ", ".join(map(str, refs.values())) or "no parents",
            spec.section,
            section.model_dump_json(exclude_defaults=True) if isinstance(section, BaseModel) else section,
        )
        result = spec.task(*refs.values(), section, config.store)
        made = [v for v in (dict(result).values() if isinstance(result, BaseModel) else [result]) if isinstance(v, ArtifactRef)]
        publish_lineage_overview(ArtifactStore.open(config.store), made, f"salad-stage-{name}")  # with the catalog
    outputs = result.model_dump(mode="json") if isinstance(result, BaseModel) else {"result": result}
    return StageRun(stage=name, parents=refs, outputs=outputs)
