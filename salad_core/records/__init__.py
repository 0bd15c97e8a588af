"""Where each artifact kind's record (its Arrow schema) is defined: the one index to look it up.

    from salad_core.records import record_schema
    record_schema("codes")            # pa.Schema of a Mimi codes artifact
    record_schema("embeddings", dim=1024)

Schemas stay next to the code that makes and reads the rows (lhotse keeps its manifests the same
way), so this index names them rather than copying them; `tests/test_records.py` checks every
entry resolves. The quarantine record every stage shares lives here: salad_core.records.quarantine.
Artifact kinds whose schema is built by a Prefect task (selection, misalignment, evaluation results)
are listed with their task module; salad_core never imports those.
"""

from __future__ import annotations

import importlib

import pyarrow as pa

RECORDS: dict[str, str] = {
    "corpus": "salad_core.corpus.fineweb_schema:FINEWEB_SCHEMA",
    "corpus_quarantine": "salad_core.corpus.ingest:QUARANTINE_SCHEMA",
    "embeddings": "salad_core.records.vectors:embedding_schema",
    "assignments": "salad_core.records.vectors:ASSIGNMENT_SCHEMA",
    "cluster_stats": "salad_core.clustering.stats:STATS_SCHEMA",
    "utterances": "salad_core.speech_sources.utterances:UTTERANCE_SCHEMA",
    "utterances_quarantine": "salad_core.speech_sources.utterances:QUARANTINE_SCHEMA",
    "synthetic_speech": "salad_core.tts.rows:speech_schema",
    "codes": "salad_core.mimi.codes:CODES_SCHEMA",
    "tokenizer": "salad_core.teacher.tokenizer_table:TOKENIZER_SCHEMA",
    "teacher": "salad_core.teacher.weights_table:WEIGHTS_SCHEMA",
    "checkpoint_weights": "salad_core.training.tensor_table:TENSOR_SCHEMA",
    "eval_items": "salad_core.evaluation.items:ITEM_SCHEMA",
    "eval_items_quarantine": "salad_core.evaluation.items:QUARANTINE_SCHEMA",
    "quarantine": "salad_core.records.quarantine:quarantine_schema",
}
TASK_RECORDS: dict[str, str] = {  # built by tasks (Prefect side): listed, never imported from here
    "selection": "tasks.select:SELECTION_SCHEMA",
    "misalignment": "tasks.misalignment:MISALIGNMENT_SCHEMA",
    "misalignment_samples": "tasks.misalignment:SAMPLES_SCHEMA",
    "probe_texts": "tasks.probe:PROBE_SCHEMA",
    "stage1_texts": "tasks.text_selection:SCHEMA",
    "eval_results": "tasks.evaluate:RESULTS_SCHEMA",
    "eval_scores": "tasks.evaluate:RESULTS_SCHEMA",
}


def record_schema(kind: str, **kwargs) -> pa.Schema:
    """The schema of artifact kind `kind` (a function entry takes its arguments, e.g. dim=)."""
    if kind not in RECORDS:
        raise KeyError(f"no record kind {kind!r}; known: {sorted(RECORDS)} (task-built: {sorted(TASK_RECORDS)})")
    module, attribute = RECORDS[kind].split(":")
    value = getattr(importlib.import_module(module), attribute)
    return value(**kwargs) if callable(value) else value
