"""Deciding, per row, whether web text is kept, filtered out, or quarantined.

Two different outcomes on purpose:
* *filtered*: valid rows the configuration excludes (score, language, length); counted in stats;
* *quarantined*: rows that are broken (no text, no letters, no id, duplicate id); kept in a
  quarantine artifact with the reason, so nothing disappears silently.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from salad_core.corpus.ingest_config import IngestConfig

QUARANTINE_EXTRA = [("reason", pa.string()), ("source_file", pa.string())]


@dataclass
class RowChecker:
    """Stateful across batches: remembers ids seen, to quarantine duplicates."""

    config: IngestConfig
    filtered: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)
    _seen_ids: set[bytes] = field(default_factory=set)

    def split(self, batch: pa.RecordBatch, source_file: str) -> tuple[pa.Table, pa.Table]:
        """(kept rows, quarantined rows with reason and source file)."""
        reasons = self._invalid_reasons(batch)
        bad = pa.array([r is not None for r in reasons])
        quarantine = pa.Table.from_batches([batch.filter(bad)])
        bad_reasons = [r for r in reasons if r is not None]
        self.quarantined.update(bad_reasons)
        quarantine = quarantine.append_column("reason", pa.array(bad_reasons, pa.string())).append_column(
            "source_file", pa.array([source_file] * len(bad_reasons), pa.string())
        )
        valid = batch.filter(pc.invert(bad))
        kept = valid.filter(self._filter_mask(valid)) if valid.num_rows else valid
        return pa.Table.from_batches([kept], schema=batch.schema), quarantine

    def _invalid_reasons(self, batch: pa.RecordBatch) -> list[str | None]:
        texts = batch.column("text").to_pylist()
        ids = batch.column("id").to_pylist()
        reasons: list[str | None] = []
        for text, doc_id in zip(texts, ids):
            reasons.append(self._reason(text, doc_id))
        return reasons

    def _reason(self, text: str | None, doc_id: str | None) -> str | None:
        if text is None:
            return "text is null"
        stripped = text.strip()
        if not stripped:
            return "text is empty or whitespace only"
        if "\ufffd" in text:
            return "text contains U+FFFD replacement characters (mis-decoded input)"
        if not any(ch.isalpha() for ch in stripped):
            return "text has no letters (only digits, punctuation or symbols)"
        if doc_id is None or not doc_id.strip():
            return "id is null or empty"
        key = hashlib.blake2b(doc_id.encode(), digest_size=12).digest()
        if key in self._seen_ids:
            return f"duplicate id {doc_id!r}"
        self._seen_ids.add(key)
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
