"""The Stage I text selection: a URL slice of the corpus joined with its clusters, a seeded sample."""

from __future__ import annotations

import pyarrow as pa
import pytest

from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA
from storage import StageSpec
from tasks.sharded_stage import write_table_artifact
from tasks.text_selection import NothingSelected, TextSelectionConfig, select_rows

TEXTS = {"a": "Short one. Then more.", "b": "A single sentence that is far too long to fit the small limit here.", "c": "Tiny. Ok."}


@pytest.fixture
def corpus_and_assignments(local_store):
    rows = [
        {**{f.name: None for f in FINEWEB_SCHEMA}, "id": k, "text": t, "url": f"https://x/{'astronomy' if k != 'c' else 'cooking'}/{k}"}
        for k, t in TEXTS.items()
    ]
    corpus = write_table_artifact(local_store, StageSpec(name="corpus", code_version="t"), pa.Table.from_pylist(rows, schema=FINEWEB_SCHEMA))
    assignments = pa.table({"id": ["c", "a", "b"], "cluster": pa.array([2, 1, 1], pa.int32()), "corpus_row": pa.array([2, 0, 1], pa.int32())})
    return corpus, write_table_artifact(local_store, StageSpec(name="assignments", code_version="t"), assignments)


def test_a_url_slice_with_clusters_and_documents_too_long_to_cut_passed_over(local_store, corpus_and_assignments):
    corpus, assignments = corpus_and_assignments
    table, stats = select_rows(local_store, corpus, assignments, TextSelectionConfig(url_contains=["/astronomy/"], max_words=4, limit=1))
    assert table.to_pylist() == [{"id": "a", "text": "Short one. Then more.", "cluster": 1, "words": 4}]
    assert stats["skipped"]["url not in the slice"] == 1


def test_nothing_to_speak_is_a_clear_error(local_store, corpus_and_assignments):
    corpus, assignments = corpus_and_assignments
    with pytest.raises(NothingSelected, match="passes url_contains=\\['/music/'\\]"):
        select_rows(local_store, corpus, assignments, TextSelectionConfig(url_contains=["/music/"]))
    with pytest.raises(NothingSelected, match="whole sentence within max_words=1"):
        select_rows(local_store, corpus, assignments, TextSelectionConfig(url_contains=["/astronomy/"], max_words=1))


def test_assignments_of_another_corpus_are_refused(local_store, corpus_and_assignments):
    corpus, _ = corpus_and_assignments
    wrong = pa.table({"id": ["a", "x", "b"], "cluster": pa.array([1, 1, 1], pa.int32()), "corpus_row": pa.array([0, 1, 2], pa.int32())})
    other = write_table_artifact(local_store, StageSpec(name="assignments", code_version="other"), wrong)
    with pytest.raises(ValueError, match="does not line up"):
        select_rows(local_store, corpus, other, TextSelectionConfig())
