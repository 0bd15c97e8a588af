"""The ingest stage as a plain generator: source batches in, fixed-size shards of kept rows out.

    run = CorpusIngest(config, files)
    for shard_index, table in run.shards():
        ...                      # write it (or skip it when already committed)
    run.quarantine_table(), run.stats()

Shards are cut at fixed row counts from a deterministic stream, so shard *i* holds the same
rows on every run: that is what lets a resumed run skip shards committed before a crash.

An ingest that keeps no row (an empty input, or filters and quarantine removing everything)
raises `EmptyCorpusError` before anything is committed, unless ``allow_empty`` is set: then it
logs a warning and the stats carry ``empty_corpus_warning``. An empty corpus silently flowing
into the tokenizer, embedding and clustering stages fails there with messages that name nothing.
"""

from __future__ import annotations

import logging
from typing import Iterator

import pyarrow as pa

from salad_core.corpus.bundled import iter_bundled_batches
from salad_core.corpus.fineweb_reader import SourceFile, iter_fineweb_batches
from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA
from salad_core.corpus.ingest_config import IngestConfig
from salad_core.corpus.row_checks import RowChecker
from salad_core.corpus.text_checks import MOJIBAKE_DETECTOR
from salad_core.records.quarantine import quarantine_schema

# the one quarantine record, then the whole FineWeb row (to fix and re-ingest) and its file
QUARANTINE_SCHEMA = quarantine_schema([f for f in FINEWEB_SCHEMA if f.name != "id"] + [pa.field("source_file", pa.string())])
BUNDLED_SOURCE = "bundled://salad/v1"
log = logging.getLogger("salad.ingest")


class EmptyCorpusError(ValueError):
    """The ingest would commit a corpus with no rows; the message says why (no input rows, or all removed)."""


class CorpusIngest:
    def __init__(self, config: IngestConfig, files: list[SourceFile] | None = None):
        if config.source == "fineweb" and not files:
            raise ValueError("a FineWeb ingest needs resolved input files")
        self.config = config
        self.files = files or []
        self.checker = RowChecker(config)
        self._quarantine: list[pa.Table] = []
        self.rows_read = 0
        self.rows_kept = 0
        self.rows_per_file: dict[str, int] = {}

    def _source_batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        cfg = self.config
        if cfg.source == "bundled":
            for batch in iter_bundled_batches(cfg.bundled_docs, cfg.seed, cfg.read_batch_rows, cfg.bundled_bad_fraction):
                yield BUNDLED_SOURCE, batch
        else:
            yield from iter_fineweb_batches(self.files, cfg.read_batch_rows)

    def shards(self) -> Iterator[tuple[int, pa.Table]]:
        """Yield (shard index, table) with exactly ``shard_rows`` rows each (the last may be shorter)."""
        limit = self.config.limit
        size = self.config.shard_rows
        pending: list[pa.Table] = []
        pending_rows = 0
        index = 0
        for source_file, batch in self._source_batches():
            self.rows_read += batch.num_rows
            self.rows_per_file[source_file] = self.rows_per_file.get(source_file, 0) + batch.num_rows
            kept, quarantined = self.checker.split(batch, source_file)
            if quarantined.num_rows:
                self._quarantine.append(quarantined)
            if limit is not None:
                kept = kept.slice(0, max(0, limit - self.rows_kept))
            self.rows_kept += kept.num_rows
            pending.append(kept)
            pending_rows += kept.num_rows
            while pending_rows >= size:
                table = pa.concat_tables(pending)
                yield index, table.slice(0, size).combine_chunks()
                index += 1
                rest = table.slice(size)
                pending, pending_rows = [rest], rest.num_rows
            if limit is not None and self.rows_kept >= limit:
                break
        if self.rows_kept == 0:
            self._refuse_or_warn_empty()
        if pending_rows or index == 0:
            yield index, pa.concat_tables(pending).combine_chunks() if pending else FINEWEB_SCHEMA.empty_table()

    def empty_reason(self) -> str:
        """A readable explanation of why no row was kept: no input rows, or how many were quarantined and filtered, by reason."""
        where = self._inputs()
        if self.rows_read == 0:
            return f"the input has no rows ({where})"
        removed = [f"{sum(self.checker.quarantined.values())} quarantined ({dict(self.checker.quarantined)})"] if self.checker.quarantined else []
        if self.checker.filtered:
            removed.append(f"{sum(self.checker.filtered.values())} filtered out ({dict(self.checker.filtered)})")
        return f"every one of the {self.rows_read} rows read from {where} was removed: " + "; ".join(removed)

    def _inputs(self) -> str:
        if self.config.source == "bundled":
            return BUNDLED_SOURCE
        names = [f.url for f in self.files]
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more file(s)" if len(names) > 3 else "")

    def _refuse_or_warn_empty(self) -> None:
        reason = self.empty_reason()
        if not self.config.allow_empty:
            raise EmptyCorpusError(
                f"ingest would commit an empty corpus: {reason}. Loosen the filters or fix the input; "
                "set ingest.allow_empty=true if an empty corpus is what you want"
            )
        log.warning("EMPTY CORPUS committed because ingest.allow_empty=true: %s", reason)

    def quarantine_table(self) -> pa.Table:
        """All quarantined rows read so far as one QUARANTINE_SCHEMA table (empty table when none)."""
        if not self._quarantine:
            return QUARANTINE_SCHEMA.empty_table()
        return pa.concat_tables(self._quarantine).cast(QUARANTINE_SCHEMA)

    def stats(self) -> dict:
        """JSON-ready ingest counts for the manifest (read, kept, quarantined, filtered and repaired by reason, rows per file);
        meaningful after `shards()` is exhausted."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_quarantined": sum(self.checker.quarantined.values()),
            "quarantine_reasons": dict(self.checker.quarantined),
            "rows_filtered": dict(self.checker.filtered),
            "rows_repaired": dict(self.checker.repaired),
            "repaired_ids_first": list(self.checker.repaired_ids),
            "mojibake": f"{self.config.mojibake} ({MOJIBAKE_DETECTOR})",
            "rows_per_file": self.rows_per_file,
            **({"empty_corpus_warning": self.empty_reason()} if self.rows_kept == 0 else {}),
        }
