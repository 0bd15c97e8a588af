"""Bad rows inside valid FineWeb-Edu files: each is quarantined with its exact reason (or repaired
and recorded), never kept silently; stats count each kind under one key.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/bad_input/test_corpus_rows.py -q
"""

from __future__ import annotations

import ftfy
import pytest

from salad_core.corpus.ingest_config import IngestConfig
from tasks.ingest import ingest_corpus
from tests.fineweb_files import real_rows, write_fineweb

ingest = ingest_corpus.fn
MOJIBAKE_TAIL = " The teacherâ€™s notes from the cafÃ© were kept."
FIXED_TAIL = " The teacher’s notes from the café were kept."


@pytest.fixture
def rows(shared_data) -> list[dict]:
    return real_rows(shared_data)[:20]


def run(tmp_path, store, rows: list[dict], name: str = "000.parquet", **kw):
    path = write_fineweb(tmp_path / "in" / name, rows)
    out = ingest(IngestConfig(source="fineweb", paths=[str(path)], **kw), store.objects.config)
    corpus = store.get(out.corpus)
    quarantine = {r["id"]: r for r in store.get(out.quarantine).to_table().to_pylist()}
    return corpus, quarantine, path


def test_control_characters_inside_text_are_quarantined(tmp_path, local_store, rows):
    text = rows[1]["text"]
    rows[1]["text"] = text[:10] + "\x00" + text[10:]
    rows[2]["text"] = "\x1b[31mWarning\x1b[0m " + rows[2]["text"]
    rows[3]["text"] = rows[3]["text"] + "\n\tIndented line.\r\n"  # layout characters are not debris
    corpus, quarantine, _ = run(tmp_path, local_store, rows)
    assert quarantine[rows[1]["id"]]["reason"] == "text contains control characters: U+0000 NUL at offset 10 (1 control character in all)"
    assert quarantine[rows[2]["id"]]["reason"] == "text contains control characters: U+001B ESC at offset 0 (2 control characters in all)"
    assert corpus.num_rows == 18 and corpus.manifest.stats["quarantine_reasons"] == {"text contains control characters": 2}


def test_mojibake_is_quarantined_by_default_naming_what_ftfy_undid(tmp_path, local_store, rows):
    rows[4]["text"] = rows[4]["text"][:300] + MOJIBAKE_TAIL
    rows[5]["text"] = "Ã©tÃ© Ã  Paris, the summer was long."
    corpus, quarantine, _ = run(tmp_path, local_store, rows)
    assert quarantine[rows[4]["id"]]["reason"] == (
        "text is mojibake (mis-decoded): 'teacherâ€™s' -> 'teacher’s' (ftfy: encode sloppy-windows-1252, decode utf-8)"
    )
    assert quarantine[rows[5]["id"]]["reason"] == (
        "text is mojibake (mis-decoded): 'Ã©tÃ©' -> 'été' (ftfy: encode latin-1, transcode restore_byte_a0, decode utf-8)"
    )
    assert corpus.num_rows == 18 and corpus.manifest.stats["quarantine_reasons"] == {"text is mojibake (mis-decoded)": 2}


def test_mojibake_repair_keeps_the_fixed_text_and_records_it(tmp_path, local_store, rows):
    original = rows[4]["text"][:300]
    rows[4]["text"] = original + MOJIBAKE_TAIL
    corpus, quarantine, _ = run(tmp_path, local_store, rows, mojibake="repair")
    kept = {r["id"]: r["text"] for r in corpus.to_table().to_pylist()}
    assert kept[rows[4]["id"]] == original + FIXED_TAIL and quarantine == {}
    stats = corpus.manifest.stats
    assert stats["rows_repaired"] == {"mojibake repaired by ftfy": 1} and stats["repaired_ids_first"] == [rows[4]["id"]]
    assert stats["mojibake"] == f"repair (ftfy {ftfy.__version__} fix_encoding)"
    assert {i: t for i, t in kept.items() if i != rows[4]["id"]} == {r["id"]: r["text"] for r in rows if r["id"] != rows[4]["id"]}


def test_nan_language_score_is_quarantined_and_never_passes_min_language_score(tmp_path, local_store, rows):
    rows[6]["language_score"] = float("nan")
    rows[7]["score"] = float("inf")
    corpus, quarantine, _ = run(tmp_path, local_store, rows, min_language_score=0.5)
    assert quarantine[rows[6]["id"]]["reason"] == "score is NaN or infinite: language_score = nan"
    assert quarantine[rows[7]["id"]]["reason"] == "score is NaN or infinite: score = inf"
    kept_ids = set(corpus.to_table().column("id").to_pylist())
    assert rows[6]["id"] not in kept_ids and len(kept_ids) == 18
    assert corpus.manifest.stats["quarantine_reasons"] == {"score is NaN or infinite": 2}


def test_scores_outside_their_range_are_quarantined(tmp_path, local_store, rows):
    rows[8]["int_score"] = 7
    rows[9]["int_score"] = -1
    rows[10]["language_score"] = 1.5
    corpus, quarantine, _ = run(tmp_path, local_store, rows)
    assert quarantine[rows[8]["id"]]["reason"] == "int_score outside 0-5: int_score = 7"
    assert quarantine[rows[9]["id"]]["reason"] == "int_score outside 0-5: int_score = -1"
    assert quarantine[rows[10]["id"]]["reason"] == "language_score outside 0-1: language_score = 1.5"
    assert corpus.num_rows == 17


def test_duplicate_ids_name_the_first_copy_and_count_under_one_reason(tmp_path, local_store, rows):
    first = write_fineweb(tmp_path / "in" / "000.parquet", rows[:10])
    again = [dict(rows[3], text=rows[3]["text"] + " (copy)"), dict(rows[5], text="A second copy of five."), *rows[10:]]
    second = write_fineweb(tmp_path / "in" / "001.parquet", again + [dict(rows[5], text="A third copy of five.")])
    out = ingest(IngestConfig(source="fineweb", paths=[str(tmp_path / "in" / "*.parquet")]), local_store.objects.config)
    reasons = [(r["reason"], r["source_file"]) for r in local_store.get(out.quarantine).to_table().to_pylist()]
    assert reasons == [
        (f"duplicate id: {rows[3]['id']!r} first seen in {first} row 3", str(second)),
        (f"duplicate id: {rows[5]['id']!r} first seen in {first} row 5", str(second)),
        (f"duplicate id: {rows[5]['id']!r} first seen in {first} row 5", str(second)),
    ]
    stats = local_store.get(out.corpus).manifest.stats
    assert stats["quarantine_reasons"] == {"duplicate id": 3} and stats["rows_quarantined"] == 3
