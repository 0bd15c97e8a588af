"""Prefect tasks: a benchmark's native files -> versioned items (+ quarantine); items -> what must be spoken.

    from tasks.eval_items import load_eval_items, spoken_inputs
    out = load_eval_items(BenchmarkConfig(name="arc_challenge", paths=[...]), store_config)
    out.items, out.quarantine            # eval_items_arc_challenge, eval_items_arc_challenge_quarantine
    spoken = spoken_inputs(out.items, store_config)
    spoken.text    # `id, text` (context + question) for tasks.tts.synthesize_speech, or None if every item has audio
    spoken.audio   # `id, audio` (24 kHz FLAC the benchmark shipped) for tasks.tokenize.tokenize_speech, or None

One artifact name per benchmark, `eval_items_<benchmark>`, so `salad artifacts show eval_items_piqa`
finds it. The fingerprint covers the config and every input file's url, size and ETag/mtime: an
edited file is a new version, an unchanged rerun reads nothing. Rows that cannot be items go to the
quarantine with the file:line and reason (missing options, answer out of range, empty text,
duplicate id, unreadable JSON, undecodable audio).
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from pydantic import BaseModel

import salad_core.evaluation
from salad_core.evaluation.config import BenchmarkConfig
from salad_core.evaluation.items import (
    ITEM_SCHEMA,
    QUARANTINE_SCHEMA,
    items_to_table,
    rejected_to_table,
    table_to_items,
)
from salad_core.evaluation.loaders import load_benchmark
from salad_core.evaluation.sources import file_identity, resolve_files
from salad_core.evaluation.spoken import shipped_audio_table, spoken_text_table
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.sharded_stage import ShardedStage, TableStage, stage_version

_EVAL_DIR = Path(salad_core.evaluation.__file__).parent
_ITEM_MODULES = ("config.py", "items.py", "formats.py", "voicebench.py", "loaders.py", "sources.py", "bundled_mc.py")
ITEMS_CODE_VERSION = stage_version("eval-items-2", __name__)
SPOKEN_CODE_VERSION = stage_version("eval-spoken-2", __name__)


def items_name(benchmark: str) -> str:
    """The artifact name of a benchmark's items, `eval_items_<benchmark>`."""
    return f"eval_items_{benchmark}"


class EvalItemsOutputs(BaseModel):
    items: ArtifactRef
    quarantine: ArtifactRef
    reused: bool
    n_items: int
    n_quarantined: int


class SpokenInputs(BaseModel):
    text: ArtifactRef | None
    audio: ArtifactRef | None


def items_spec(config: BenchmarkConfig) -> StageSpec:
    """The items spec of `config`: its item params plus each input file's identity (url, size,
    ETag/mtime), so an edited file is a new version while an unchanged rerun reads nothing."""
    params = config.item_params()
    if config.paths:
        params["inputs"] = [file_identity(u) for u in resolve_files(config.paths)]
    if config.labels_path:
        params["labels_input"] = file_identity(resolve_files([config.labels_path])[0])
    return StageSpec(name=items_name(config.name), params=params, code_version=ITEMS_CODE_VERSION)


class _ItemsStage(ShardedStage):
    """One shard of items; the quarantine is known once every row has been read."""

    schema = ITEM_SCHEMA
    quarantine_schema = QUARANTINE_SCHEMA

    def __init__(self, store: ArtifactStore, spec: StageSpec, config: BenchmarkConfig):
        super().__init__(store, spec, expected_shards=1)
        self.config = config
        self.loaded = None

    def num_shards(self) -> int:
        return 1

    def process_shard(self, shard: int):
        self.loaded = load_benchmark(self.config)
        reasons: dict[str, int] = {}
        for r in self.loaded.rejected:
            reasons[r.reason.split(":")[0]] = reasons.get(r.reason.split(":")[0], 0) + 1
        self._stats = {"items": len(self.loaded.items), "quarantined": len(self.loaded.rejected), "quarantine_reasons": reasons}
        if not self.loaded.items:
            raise ValueError(f"benchmark {self.config.name}: no usable item in {self.config.paths} ({reasons or 'no rows'})")
        return items_to_table(self.loaded.items), rejected_to_table(self.loaded.rejected)

    def stats(self) -> dict:
        return self._stats


@task(name="load-eval-items")
def load_eval_items(config: BenchmarkConfig, store_config: StoreConfig) -> EvalItemsOutputs:
    """A benchmark's items and quarantine (reused when committed) with their row counts; ValueError
    when no row of its files makes an item."""
    store = ArtifactStore.open(store_config)
    result = _ItemsStage(store, items_spec(config), config).run()
    items_stats = store.get(result.ref).manifest
    quarantine_rows = store.get(result.quarantine).num_rows
    return EvalItemsOutputs(
        items=result.ref,
        quarantine=result.quarantine,
        reused=result.reused,
        n_items=items_stats.num_rows,
        n_quarantined=quarantine_rows,
    )


@task(name="eval-spoken-inputs")
def spoken_inputs(items: ArtifactRef, store_config: StoreConfig) -> SpokenInputs:
    """The `id, text` to synthesise and the `id, audio` to tokenise as is; None for an empty side."""
    store = ArtifactStore.open(store_config)
    loaded = table_to_items(store.get(items).to_table())
    out = {}
    for side, build in (("text", spoken_text_table), ("audio", shipped_audio_table)):
        table = build(loaded)
        if table.num_rows == 0:
            out[side] = None
            continue
        spec = StageSpec(name=f"{items.name}_spoken_{side}", code_version=SPOKEN_CODE_VERSION, parents=[items])
        out[side] = TableStage(store, spec, lambda table=table: (table, {"rows": table.num_rows})).run().ref
    return SpokenInputs(**out)
