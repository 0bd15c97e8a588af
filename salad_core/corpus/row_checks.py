"""Deciding, per row, whether web text is kept, repaired, filtered out, or quarantined.

Different outcomes on purpose:
* *filtered*: valid rows the configuration excludes (score, language, length); counted in stats;
* *quarantined*: rows that are broken (no text, no letters, control characters, mojibake when
  not repaired, no id, duplicate id, NaN or out-of-range scores); kept in a quarantine artifact
  with the reason, so nothing disappears silently. Stats count them by *kind* (one key for all
  duplicate ids), while each row's reason carries the details (where the first copy was seen);
* *repaired*: mojibake undone by ftfy when ``mojibake="repair"``; the row is kept with the fixed
  text and counted under ``rows_repaired``, with the first ids repaired, so a reader knows.

Broken rows are quarantined before the filters run: a NaN ``language_score`` must never be
compared with ``min_language_score`` (NaN < x is false, so it used to pass).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from salad_core.corpus.ingest_config import IngestConfig
from salad_core.corpus.text_checks import control_character_problem, find_mojibake
from salad_core.records.quarantine import CORE_NAMES, quarantine_row

CORPUS_STAGE = "corpus"
INT_SCORE_RANGE = (0, 5)
REPAIRED_IDS_KEPT = 20  # ids of repaired rows listed in stats (the count is always complete)

# quarantine kinds: the stats keys (a row's reason is "<kind>: <details>" when it has details)
DUPLICATE_ID = "duplicate id"
CONTROL_CHARACTERS = "text contains control characters"
MOJIBAKE = "text is mojibake (mis-decoded)"
NAN_SCORE = "score is NaN or infinite"
INT_SCORE_OUT_OF_RANGE = "int_score outside 0-5"
LANGUAGE_SCORE_OUT_OF_RANGE = "language_score outside 0-1"
MOJIBAKE_REPAIRED = "mojibake repaired by ftfy"


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str | None = None

    @property
    def reason(self) -> str:
        """The quarantine reason string: the problem kind, with its detail after a colon when there is one."""
        return self.kind if self.detail is None else f"{self.kind}: {self.detail}"


@dataclass
class RowChecker:
    """Stateful across batches: remembers where each id was first seen, to name it for duplicates."""

    config: IngestConfig
    filtered: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)
    repaired: Counter = field(default_factory=Counter)
    repaired_ids: list[str] = field(default_factory=list)
    # id hash -> (index into _files) << 40 | row in that file: 12-byte keys keep 10M ids in ~1.5 GB
    _first_seen: dict[bytes, int] = field(default_factory=dict)
    _files: list[str] = field(default_factory=list)
    _rows_in_file: Counter = field(default_factory=Counter)

    def split(self, batch: pa.RecordBatch, source_file: str) -> tuple[pa.Table, pa.Table]:
        """(kept rows, possibly repaired; quarantined rows with reason and source file)."""
        if source_file not in self._files:
            self._files.append(source_file)
        file_index = self._files.index(source_file)
        first_row = self._rows_in_file[source_file]
        self._rows_in_file[source_file] += batch.num_rows
        problems, texts, changed = self._check_rows(batch, file_index, first_row)
        if changed:
            batch = batch.set_column(batch.schema.get_field_index("text"), "text", pa.array(texts, pa.string()))
        bad = pa.array([p is not None for p in problems])
        found = [p for p in problems if p is not None]
        self.quarantined.update(p.kind for p in found)
        quarantine = quarantine_table(pa.Table.from_batches([batch.filter(bad)], schema=batch.schema), [p.reason for p in found], source_file)
        valid = batch.filter(pc.invert(bad))
        kept = valid.filter(self._filter_mask(valid)) if valid.num_rows else valid
        return pa.Table.from_batches([kept], schema=batch.schema), quarantine

    def _check_rows(self, batch: pa.RecordBatch, file_index: int, first_row: int) -> tuple[list[Problem | None], list, bool]:
        columns = {n: batch.column(n).to_pylist() for n in ("text", "id", "language_score", "score", "int_score")}
        problems: list[Problem | None] = []
        texts: list[str | None] = []
        changed = False
        for i in range(batch.num_rows):
            text, problem = self._text_problem(columns["text"][i], columns["id"][i])
            changed |= text is not columns["text"][i]
            texts.append(text)
            if problem is None:
                problem = self._metadata_problem(columns["language_score"][i], columns["score"][i], columns["int_score"][i])
            if problem is None:
                problem = self._id_problem(columns["id"][i], file_index, first_row + i)
            problems.append(problem)
        return problems, texts, changed

    def _text_problem(self, text: str | None, doc_id: str | None) -> tuple[str | None, Problem | None]:
        """(the text to keep, possibly repaired; the problem or None)."""
        if text is None:
            return text, Problem("text is null")
        stripped = text.strip()
        if not stripped:
            return text, Problem("text is empty or whitespace only")
        if "\ufffd" in text:
            return text, Problem("text contains U+FFFD replacement characters (mis-decoded input)")
        if control := control_character_problem(text):
            return text, Problem(CONTROL_CHARACTERS, control)
        if mojibake := find_mojibake(text):
            detail = f"{mojibake.example} (ftfy: {mojibake.steps})"
            if self.config.mojibake == "quarantine":
                return text, Problem(MOJIBAKE, detail)
            self.repaired[MOJIBAKE_REPAIRED] += 1
            if len(self.repaired_ids) < REPAIRED_IDS_KEPT:
                self.repaired_ids.append(str(doc_id))
            text, stripped = mojibake.fixed, mojibake.fixed.strip()
        if not any(ch.isalpha() for ch in stripped):
            return text, Problem("text has no letters (only digits, punctuation or symbols)")
        return text, None

    @staticmethod
    def _metadata_problem(language_score: float | None, score: float | None, int_score: int | None) -> Problem | None:
        for name, value in (("language_score", language_score), ("score", score)):
            if value is not None and not math.isfinite(value):
                return Problem(NAN_SCORE, f"{name} = {value}")
        if language_score is not None and not 0.0 <= language_score <= 1.0:
            return Problem(LANGUAGE_SCORE_OUT_OF_RANGE, f"language_score = {language_score}")
        low, high = INT_SCORE_RANGE
        if int_score is not None and not low <= int_score <= high:
            return Problem(INT_SCORE_OUT_OF_RANGE, f"int_score = {int_score}")
        return None

    def _id_problem(self, doc_id: str | None, file_index: int, row: int) -> Problem | None:
        if doc_id is None or not doc_id.strip():
            return Problem("id is null or empty")
        key = hashlib.blake2b(doc_id.encode(), digest_size=12).digest()
        first = self._first_seen.get(key)
        if first is not None:
            return Problem(DUPLICATE_ID, f"{doc_id!r} first seen in {self._files[first >> 40]} row {first & ((1 << 40) - 1)}")
        self._first_seen[key] = (file_index << 40) | row
        return None

    def _filter_mask(self, batch: pa.RecordBatch) -> pa.Array:
        cfg = self.config
        keep = pa.array([True] * batch.num_rows)
        lengths = pc.utf8_length(pc.utf8_trim_whitespace(batch.column("text")))
        rules = [
            ("int_score below min_int_score", cfg.min_int_score is not None and pc.less(batch.column("int_score"), cfg.min_int_score)),
            ("language not in languages", cfg.languages is not None and pc.invert(pc.is_in(batch.column("language"), pa.array(cfg.languages)))),
            ("language_score below min_language_score", cfg.min_language_score is not None and pc.less(batch.column("language_score"), cfg.min_language_score)),
            ("shorter than min_chars", cfg.min_chars is not None and pc.less(lengths, cfg.min_chars)),
            ("longer than max_chars", cfg.max_chars is not None and pc.greater(lengths, cfg.max_chars)),
        ]
        for reason, drop in rules:
            if drop is False:
                continue
            drop = pc.fill_null(drop, True)  # a null score or language cannot pass a filter on it
            newly = pc.and_(keep, drop)
            self.filtered[reason] += pc.sum(newly).as_py() or 0
            keep = pc.and_(keep, pc.invert(drop))
        return keep


def quarantine_table(rows: pa.Table, reasons: list[str], source_file: str) -> pa.Table:
    """The quarantine record (salad_core.records.quarantine) of bad FineWeb rows: the core columns,
    then the whole row (so a fixed row can be re-ingested) and the file it came from."""
    texts = rows.column("text").to_pylist() if rows.num_rows else []
    core = [quarantine_row(i, CORPUS_STAGE, r, excerpt_of=t) for i, r, t in zip(rows.column("id").to_pylist(), reasons, texts)]
    columns = {name: pa.array([c[name] for c in core], pa.string()) for name in CORE_NAMES}
    for name in rows.column_names:
        if name != "id":
            columns[name] = rows.column(name)
    columns["source_file"] = pa.array([source_file] * rows.num_rows, pa.string())
    return pa.table(columns)
